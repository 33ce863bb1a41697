"""A study plan: rows (a preset each) x seeds, the reference row, and where the data comes from.

Plans are YAML files: ``study/NAME`` names ``resources/configs/studies/NAME.yaml``; any other value
is a path. Fields::

    title: Table 3 ablation on SynthPed-Occluded      # one line for reports
    data: demo          # optional: "demo" = the demo's SynthPed, SynthPed-Occluded and SynthCLIP,
                        # built in (or reused from) the study's workspace; else the presets' data.root
    seeds: 5            # seeds 0..N-1 (--seeds overrides)
    reference: clipreid # the row the others are compared with
    overrides: []       # key=value for every run
    launcher:           # optional: where the runs train (scing_core.pipeline.launchers.LauncherSettings;
      kind: slurm       #   command-line flags win), e.g. partition, gpus_per_run, time_min, sbatch_lines
    rows:
      - {name: clipreid, title: CLIP-ReID, preset: synthped_occluded/clipreid/ablation/demo}
      - {name: scing, title: SCING, preset: synthped_occluded/scing/demo, overrides: []}

Every row's preset is resolved when the plan loads, so a typo fails before any training.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from scing_core.config import resolve_config
from scing_core.config.io import presets_root
from scing_core.errors import ConfigError
from scing_core.pipeline.launchers import LauncherSettings
from scing_core.registry import suggest

PLAN_PREFIX = "study/"
DATA_SOURCES = ("", "demo")
ROW_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclass(frozen=True)
class StudyRow:
    name: str                      # folder-safe id, e.g. "scing"
    title: str                     # for tables and plots
    preset: str                    # DATASET/METHOD[/VARIANT...] or a YAML file
    overrides: tuple[str, ...] = ()


@dataclass(frozen=True)
class StudyPlan:
    name: str
    title: str
    rows: tuple[StudyRow, ...]
    seeds: tuple[int, ...]
    reference: str
    data: str = ""
    overrides: tuple[str, ...] = ()
    source: str = ""               # the file the plan came from
    launcher: LauncherSettings = LauncherSettings()   # the plan's `launcher:` (flags override it)

    def row(self, name: str) -> StudyRow:
        return next(r for r in self.rows if r.name == name)

    @staticmethod
    def run_name(row: StudyRow, seed: int) -> str:
        return f"{row.name}-s{seed}"

    def as_dict(self) -> dict:
        return {"name": self.name, "title": self.title, "data": self.data, "reference": self.reference,
                "seeds": list(self.seeds), "overrides": list(self.overrides), "source": self.source,
                "rows": [{"name": r.name, "title": r.title, "preset": r.preset, "overrides": list(r.overrides)}
                         for r in self.rows]}


def plans_dir() -> Path:
    return presets_root() / "studies"


def list_plans() -> list[str]:
    """The shipped plans as ``study/NAME``."""
    folder = plans_dir()
    return sorted(f"{PLAN_PREFIX}{p.stem}" for p in folder.glob("*.yaml")) if folder.is_dir() else []


def plan_file(name: str) -> Path:
    if name.startswith(PLAN_PREFIX):
        path = plans_dir() / f"{name[len(PLAN_PREFIX):]}.yaml"
        if not path.is_file():
            choices = list_plans()
            raise ConfigError(f"unknown study plan '{name}'.{suggest(name, choices)} Valid: {', '.join(choices)}")
        return path
    path = Path(name).expanduser()
    if not path.is_file():
        raise ConfigError(f"study plan '{name}' is neither a file nor study/NAME; shipped plans: {', '.join(list_plans())}")
    return path


def load_plan(name: str, seeds: int | None = None) -> StudyPlan:
    """Read and check a plan; ``seeds`` (when given) replaces the plan's seed count."""
    path = plan_file(name)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"study plan '{path}' is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"study plan '{path}' must hold a mapping (title, seeds, reference, rows)")
    unknown = set(data) - {"title", "data", "seeds", "reference", "overrides", "rows", "launcher"}
    if unknown:
        raise ConfigError(f"study plan '{path}' has unknown keys {sorted(unknown)}; "
                          "allowed: title, data, seeds, reference, overrides, rows, launcher")
    launcher = data.get("launcher") or {}
    if not isinstance(launcher, dict):
        raise ConfigError(f"study plan '{path}': launcher must be a mapping (kind, parallel, partition, ...)")
    rows = tuple(_row(entry, path) for entry in data.get("rows") or [])
    count = int(seeds if seeds is not None else data.get("seeds", 1))
    plan = StudyPlan(name=path.stem, title=str(data.get("title") or path.stem), rows=rows,
                     seeds=tuple(range(count)), reference=str(data.get("reference") or (rows[0].name if rows else "")),
                     data=str(data.get("data") or ""), overrides=tuple(str(o) for o in data.get("overrides") or ()),
                     source=str(path), launcher=LauncherSettings.from_mapping(launcher, f"study plan '{path}'"))
    _check(plan, path)
    return plan


def _row(entry, path: Path) -> StudyRow:
    if not isinstance(entry, dict) or not entry.get("name") or not entry.get("preset"):
        raise ConfigError(f"study plan '{path}': every row needs a name and a preset, got {entry!r}")
    name = str(entry["name"])
    if not ROW_NAME.match(name):
        raise ConfigError(f"study plan '{path}': row name '{name}' must be lower-case letters, digits, - or _")
    return StudyRow(name, str(entry.get("title") or name), str(entry["preset"]),
                    tuple(str(o) for o in entry.get("overrides") or ()))


def _check(plan: StudyPlan, path: Path) -> None:
    names = [r.name for r in plan.rows]
    if len(names) < 2 or len(set(names)) != len(names):
        raise ConfigError(f"study plan '{path}' needs at least two rows with distinct names, got {names}")
    if plan.reference not in names:
        raise ConfigError(f"study plan '{path}': reference '{plan.reference}' is not a row ({', '.join(names)})")
    if not plan.seeds:
        raise ConfigError(f"study plan '{path}': seeds must be >= 1")
    if plan.data not in DATA_SOURCES:
        raise ConfigError(f"study plan '{path}': data must be 'demo' or left out, got '{plan.data}'")
    for row in plan.rows:
        try:
            resolve_config(row.preset, [*plan.overrides, *row.overrides])
        except ConfigError as exc:
            raise ConfigError(f"study plan '{path}', row '{row.name}': {exc}") from None
