"""Following a detached study (``scing study --status DIR [--collect]``, the studio's Study panel):
its plan as it was run (``plan.yaml``), each run's :class:`~scing_core.study.status.RunStatus`, and,
once every run is done, its statistics."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from scing_core.config import resolve_config
from scing_core.errors import InputError
from scing_core.study.plan import StudyPlan, StudyRow
from scing_core.study.report import write_study
from scing_core.study.status import RunStatus, format_status, study_status


@dataclass
class StudyFollow:
    plan: StudyPlan
    runs: list[RunStatus]
    table: str
    written: Path | None = None

    @property
    def all_done(self) -> bool:
        return all(r.state == "done" for r in self.runs)

    @property
    def not_done(self) -> int:
        return sum(r.state != "done" for r in self.runs)


def saved_plan(study_dir: Path) -> StudyPlan:
    """The plan a study folder was run with (its plan.yaml), or an InputError saying what the folder lacks."""
    path = Path(study_dir).expanduser() / "plan.yaml"
    if not path.is_file():
        raise InputError(f"'{study_dir}' is not a study folder (no plan.yaml); pass WORKSPACE/studies/<plan>")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    rows = tuple(StudyRow(r["name"], r.get("title", r["name"]), r["preset"], tuple(r.get("overrides") or ()))
                 for r in data.get("rows") or [])
    return StudyPlan(name=str(data.get("name") or Path(study_dir).name), title=str(data.get("title") or ""), rows=rows,
                     seeds=tuple(int(s) for s in data.get("seeds") or ()), reference=str(data.get("reference") or ""),
                     data=str(data.get("data") or ""), overrides=tuple(data.get("overrides") or ()),
                     source=str(data.get("source") or ""))


def tests_wanted(plan: StudyPlan) -> int:
    """Test sets each run's final metrics cover: both SynthPed splits for ``data: demo``, else the runs' own."""
    if plan.data == "demo":
        return 2
    return len(resolve_config(plan.rows[0].preset, [*plan.overrides, *plan.rows[0].overrides]).data.test_datasets) or 1


def follow_study(study_dir, collect: bool = False) -> StudyFollow:
    study_dir = Path(study_dir).expanduser().resolve()
    plan = saved_plan(study_dir)
    runs = study_status(plan, study_dir, tests_wanted(plan))
    report = StudyFollow(plan, runs, format_status(runs))
    if collect and report.all_done:
        write_study(plan, study_dir, seconds=_span(study_dir))
        report.written = study_dir / "study.json"
    return report


def _span(study_dir: Path) -> float:
    """Seconds from the plan's writing to now: the study's wall time as far as its folder knows."""
    try:
        return max(0.0, time.time() - (study_dir / "plan.yaml").stat().st_mtime)
    except OSError:
        return 0.0
