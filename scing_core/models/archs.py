"""Architecture names: open_clip's model configs plus the project's own (``model_configs/*.json``).

The project architectures are plain open_clip JSON configs registered once, on import, with
``open_clip.add_model_config`` (open_clip's own "architecture as data" mechanism):

- ``scing-tiny``  — a few-hundred-kilobyte CLIP for tests (ViT width 64, 2 layers).
- ``synthclip-s`` — the SynthCLIP demo model pre-trained on SynthPed captions (ViT width 128,
  4 layers, 128x64 input).
"""

from __future__ import annotations

from pathlib import Path

import open_clip

from scing_core.errors import RegistryError
from scing_core.registry import suggest

MODEL_CONFIG_DIR = Path(__file__).resolve().parent / "model_configs"
PROJECT_ARCHS: tuple[str, ...] = tuple(sorted(p.stem for p in MODEL_CONFIG_DIR.glob("*.json")))
# open_clip architectures this project has been checked with (the others may or may not work).
REFERENCE_ARCHS: tuple[str, ...] = ("ViT-B-16", "RN50")


def register_project_archs() -> None:
    """Make the project's JSON configs visible to ``open_clip.create_model`` (idempotent)."""
    known = set(open_clip.list_models())
    if not all(name in known for name in PROJECT_ARCHS):
        open_clip.add_model_config(MODEL_CONFIG_DIR)


def list_archs() -> list[str]:
    """The project's architectures followed by every open_clip architecture name."""
    register_project_archs()
    others = [name for name in open_clip.list_models() if name not in PROJECT_ARCHS]
    return list(PROJECT_ARCHS) + others


def arch_config(name: str) -> dict:
    """The open_clip config dict of ``name``; an unknown name raises a RegistryError listing valid ones."""
    register_project_archs()
    config = open_clip.get_model_config(name)
    if config is None:
        names = list_archs()
        hint = suggest(name, names)
        raise RegistryError(
            f"unknown architecture '{name}'.{hint} Project architectures: {', '.join(PROJECT_ARCHS)}; "
            f"open_clip ones include {', '.join(REFERENCE_ARCHS)} "
            f"({len(names) - len(PROJECT_ARCHS)} in all, see open_clip.list_models())."
        )
    return config


register_project_archs()
