"""The Training panel's "New run" form, without Qt: preset parts, run name, data root, overrides,
validation, and what the form shows for a workspace before the user changes anything.

Presets come from ``api.list_presets()``: ``DATASET/METHOD`` rows plus variants listed as
``DATASET/METHOD/VARIANT`` that compose with any dataset and method (e.g. ``synthped/scing/quick``).

Every default follows the open workspace: the data root is that workspace's data folder of the chosen
dataset (``WORKSPACE/data/DATASET``, where the demo keeps SynthPed) or empty (the preset's
``data.root``), never another workspace's; a switch of workspace resets the whole form to
:data:`FORM_DEFAULTS` and that workspace's data root.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

VARIANT_PLACEHOLDER = "DATASET/METHOD/"
DATA_FOLDER = "data"   # WORKSPACE/data/DATASET: where a workspace keeps its datasets (the demo's SynthPed)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_OVERRIDE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*=")


@dataclass(frozen=True)
class PresetChoices:
    datasets: list[str]
    methods: list[str]
    variants: list[str]   # "" (none) first

    @classmethod
    def from_presets(cls, presets) -> "PresetChoices":
        datasets, methods, variants = [], [], [""]
        for name in presets:
            if name.startswith(VARIANT_PLACEHOLDER):
                variants.append(name[len(VARIANT_PLACEHOLDER):])
                continue
            dataset, _, method = name.partition("/")
            if method and "/" not in method:
                datasets += [dataset] if dataset not in datasets else []
                methods += [method] if method not in methods else []
        return cls(datasets, methods, variants)


@dataclass(frozen=True)
class FormDefaults:
    """What the New-run form shows before the user changes anything (the preset's parts are preferred
    when offered; the run name is suggested from the workspace's runs, the data root from its folders)."""

    dataset: str = "synthped"
    method: str = "scing"
    variant: str = "quick"
    overrides: str = ""
    nproc: int = 1


FORM_DEFAULTS = FormDefaults()


def default_data_root(workspace, dataset: str) -> str:
    """``WORKSPACE/data/DATASET`` when that folder exists, else "" (the preset's own ``data.root``): a
    default never points into another workspace."""
    if workspace is None or not dataset:
        return ""
    folder = Path(workspace) / DATA_FOLDER / dataset
    return str(folder) if folder.is_dir() else ""


def compose_preset(dataset: str, method: str, variant: str = "") -> str:
    return f"{dataset}/{method}" + (f"/{variant}" if variant else "")


def parse_overrides(text: str) -> list[str]:
    """'a.b=1 c="x y"' -> ['a.b=1', 'c=x y']; raises ValueError naming the first bad item."""
    try:
        items = shlex.split(text)
    except ValueError as error:
        raise ValueError(f"overrides: {error} (quote values that contain spaces)") from None
    for item in items:
        if not _OVERRIDE.match(item):
            raise ValueError(f"override '{item}' is not key=value (e.g. stage1.epochs=10)")
    return items


def suggest_run_name(method: str, variant: str, existing) -> str:
    """'scing-quick', then 'scing-quick-2', … avoiding names already in the workspace."""
    base = method + (f"-{variant}" if variant else "")
    taken = set(existing)
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


@dataclass(frozen=True)
class LaunchRequest:
    preset: str
    run_dir: Path
    overrides: tuple[str, ...]
    nproc: int = 1
    launcher: object = None   # an api.LauncherSettings to submit the run with (Slurm); None: a child process here


def build_launch_request(workspace, dataset: str, method: str, variant: str, name: str, data_root: str,
                         overrides_text: str, nproc: int = 1) -> LaunchRequest:
    """Validate the form; the run goes to ``WORKSPACE/runs/NAME``. Raises ValueError with a fix."""
    if not dataset or not method:
        raise ValueError("pick a dataset and a method for the preset")
    name = name.strip()
    if not _NAME.match(name):
        raise ValueError(f"run name '{name}' must start with a letter or digit and use only letters, digits, . _ -")
    run_dir = Path(workspace) / "runs" / name
    if run_dir.exists() and any(run_dir.iterdir()):
        raise ValueError(f"{run_dir} already exists; choose another name, or select that run and press Resume")
    overrides = parse_overrides(overrides_text)
    if data_root.strip():
        root = Path(data_root.strip()).expanduser()
        if not root.exists():
            raise ValueError(f"data root {root} does not exist; pick the dataset folder (or its parent)")
        overrides.append(f"data.root={root}")
    if nproc < 1:
        raise ValueError("processes must be at least 1")
    return LaunchRequest(compose_preset(dataset, method, variant), run_dir, tuple(overrides), nproc)
