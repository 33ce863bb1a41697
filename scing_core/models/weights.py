"""Weight sources for a :class:`ClipBackbone`: open_clip tags or local files, kept apart from building.

A local file may hold a raw state_dict, or a dict with a ``"state_dict"`` / ``"model"`` entry (a
SynthCLIP or training checkpoint); ``module.`` prefixes (DataParallel) are stripped, and state
dicts of a whole ``ReIDModel`` (``backbone.*``) or of a ``ClipBackbone`` (``clip.*``) are accepted.
Files are read with ``torch.load(weights_only=True)``; ``.safetensors`` through safetensors; an
OpenAI TorchScript archive through ``torch.jit.load``. The image positional embedding is resized to
the backbone's grid, whatever grid the weights were saved at.
"""

from __future__ import annotations

import logging
import pickle
import zipfile
from collections.abc import Mapping
from pathlib import Path

import open_clip
import torch

from scing_core.errors import CheckpointError
from scing_core.models.pos_embed import infer_grid, resize_grid_embedding

log = logging.getLogger(__name__)

WEIGHT_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt", ".safetensors")
BACKBONE_EXTRAS = ("sie_embed", "pos_grid")  # ClipBackbone entries outside the CLIP model
LEGACY_KEYS = ("input_resolution", "context_length", "vocab_size")  # OpenAI JIT state_dict extras
EXAMPLES = 3


def tag_uses_quick_gelu(arch: str, source: str) -> bool:
    """True when ``source`` is an open_clip tag of ``arch`` trained with QuickGELU (OpenAI's)."""
    if Path(source).expanduser().is_file():
        return False
    return bool(open_clip.get_pretrained_cfg(arch, source).get("quick_gelu", False))


def resolve_source(arch: str, source: str) -> Path:
    """The local file behind ``source``: the file itself, or open_clip's cached download of a tag."""
    path = Path(source).expanduser()
    if path.is_file():
        return path
    tag_cfg = open_clip.get_pretrained_cfg(arch, source)
    if tag_cfg:
        try:
            return Path(open_clip.download_pretrained(tag_cfg))
        except Exception as exc:  # network, hub or cache failure: say what and how to work around it
            raise CheckpointError(
                f"could not fetch the open_clip weights '{source}' for {arch} ({type(exc).__name__}: {exc}); "
                "when offline, download them once elsewhere and pass the local file as model.pretrained"
            ) from exc
    if path.exists():
        raise CheckpointError(f"weights source '{source}' is a directory; pass a weights file")
    if path.suffix in WEIGHT_SUFFIXES or len(path.parts) > 1:
        raise CheckpointError(f"weights file '{source}' does not exist")
    tags = open_clip.list_pretrained_tags_by_model(arch)
    known = f"its open_clip tags: {', '.join(tags)}" if tags else f"{arch} has no open_clip tags, pass a file"
    raise CheckpointError(f"'{source}' is neither a weights file nor an open_clip tag of {arch} ({known})")


def _is_torchscript(path: Path) -> bool:
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return any(name.endswith("constants.pkl") or "/code/" in name for name in archive.namelist())


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Read a weights file into a flat ``{name: tensor}`` dict, or raise a CheckpointError saying why not."""
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            obj = load_file(str(path), device="cpu")
        elif _is_torchscript(path):
            obj = torch.jit.load(str(path), map_location="cpu").state_dict()
        else:
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CheckpointError(
            f"'{path}' holds Python objects besides tensors, which weights-only loading refuses; "
            "re-save it as a plain state_dict (torch.save(model.state_dict(), path))"
        ) from exc
    except Exception as exc:
        raise CheckpointError(f"'{path}' is not a PyTorch weights file ({type(exc).__name__}: {exc})") from exc
    return _unwrap(obj, path)


def _unwrap(obj: object, path: Path) -> dict[str, torch.Tensor]:
    if isinstance(obj, Mapping):
        for entry in ("state_dict", "model"):
            if isinstance(obj.get(entry), Mapping):
                obj = obj[entry]
                break
    if not isinstance(obj, Mapping) or not obj:
        raise CheckpointError(f"'{path}' holds a {type(obj).__name__}, not a state_dict of tensors")
    state = {str(k): v for k, v in obj.items() if isinstance(v, torch.Tensor)}
    if not state:
        keys = ", ".join(list(map(str, obj))[:EXAMPLES])
        raise CheckpointError(f"'{path}' holds no tensors (top-level keys: {keys}); expected a state_dict")
    return state


def normalise_keys(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Strip ``module.``; keep only ``backbone.*`` of a ReIDModel; strip ``clip.`` of a ClipBackbone."""
    state = {k[len("module."):] if k.startswith("module.") else k: v for k, v in state.items()}
    if any(k.startswith("backbone.") for k in state):
        state = {k[len("backbone."):]: v for k, v in state.items() if k.startswith("backbone.")}
    if any(k.startswith("clip.") for k in state):
        state = {k[len("clip."):] if k.startswith("clip.") else k: v for k, v in state.items()}
    for key in LEGACY_KEYS:
        state.pop(key, None)
    return state


def _resize_image_pos_embed(backbone, state: dict[str, torch.Tensor], saved_grid: torch.Tensor | None) -> None:
    key = "visual.positional_embedding" if backbone.is_vit else "visual.attnpool.positional_embedding"
    pos = state.get(key)
    if pos is None or pos.ndim != 2:
        return
    if saved_grid is not None and saved_grid.numel() == 2 and int(saved_grid.prod()) == pos.shape[0] - 1:
        old_grid = (int(saved_grid[0]), int(saved_grid[1]))
    else:
        old_grid = infer_grid(pos.shape[0] - 1, backbone.grid)
    if old_grid != tuple(backbone.grid):
        log.info("resizing the positional embedding from a %sx%s to a %sx%s grid", *old_grid, *backbone.grid)
        state[key] = resize_grid_embedding(pos, old_grid, backbone.grid)


def _mismatch_message(source: str, arch: str, missing: list, unexpected: list, reshaped: list) -> str:
    def examples(keys: list) -> str:
        return ", ".join(keys[:EXAMPLES]) + (", ..." if len(keys) > EXAMPLES else "")

    parts = []
    if missing:
        parts.append(f"{len(missing)} missing keys (e.g. {examples(missing)})")
    if unexpected:
        parts.append(f"{len(unexpected)} unexpected keys (e.g. {examples(unexpected)})")
    if reshaped:
        parts.append(f"{len(reshaped)} keys with other shapes (e.g. {examples(reshaped)})")
    return (
        f"weights '{source}' do not fit architecture {arch}: {'; '.join(parts)}. "
        "They were probably saved for another architecture: set model.arch to the one they were trained with."
    )


def load_state_into_backbone(backbone, state: dict[str, torch.Tensor], source: str) -> None:
    """Load a normalised state dict into ``backbone`` (strict on the CLIP model, lenient on SIE)."""
    sie = state.pop("sie_embed", None)
    saved_grid = state.pop("pos_grid", None)
    _resize_image_pos_embed(backbone, state, saved_grid)
    expected = backbone.clip.state_dict()
    for key in expected:  # BatchNorm counters are bookkeeping, not weights: keep the model's own
        if key.endswith("num_batches_tracked") and key not in state:
            state[key] = expected[key]
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    reshaped = [
        f"{k} {tuple(state[k].shape)} vs {tuple(expected[k].shape)}"
        for k in state
        if k in expected and state[k].shape != expected[k].shape
    ]
    if missing or unexpected or reshaped:
        raise CheckpointError(_mismatch_message(source, backbone.arch, missing, unexpected, reshaped))
    backbone.clip.load_state_dict(state, strict=True)
    if sie is not None and backbone.sie_embed is not None:
        if sie.shape == backbone.sie_embed.shape:
            with torch.no_grad():
                backbone.sie_embed.copy_(sie)
        else:
            log.warning("SIE table of shape %s in '%s' ignored (model has %s)", tuple(sie.shape), source,
                        tuple(backbone.sie_embed.shape))


def load_pretrained(backbone, source: str) -> None:
    """Load weights into ``backbone`` from an open_clip tag or a local file (see the module doc)."""
    path = resolve_source(backbone.arch, source)
    state = normalise_keys(read_state_dict(path))
    load_state_into_backbone(backbone, state, str(source))
    log.info("loaded %s weights from %s", backbone.arch, path)
