"""A study that is still running, submitted, or trained but not collected (no study.json yet), and the
"Start a study" form's request, without Qt.

:class:`LiveStudy` is what ``api.study_status`` says of each (row, seed) run of a study folder: its state
(done, queued, running, preempted, failed, stopped, not started), job id, node, the epoch it reached and
its last error. The Study panel shows it in place of the statistics, asks again every few seconds while
any run is queued or running (or this window's ``scing study`` process runs), and offers Collect once
every run is done (``api.collect_study_command`` writes study.json; the statistics follow).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ACTIVE_STATES = ("queued", "running")
# a preempted run the scheduler holds again (requeued) comes back by itself: it is followed too
SCHEDULER_HOLDS = ("PENDING", "REQUEUED", "CONFIGURING", "REQUEUE_HOLD", "REQUEUE_FED", "SUSPENDED", "RUNNING",
                   "COMPLETING")
STATE_ORDER = ("running", "queued", "preempted", "failed", "stopped", "not started", "done")
LIVE_COLUMNS = ("Run", "State", "Job", "Node", "Reached", "Last error")
PLAN_PREFIX = "study/"


@dataclass(frozen=True)
class LiveRun:
    """One (row, seed) run of a study as ``api.study_status`` reports it."""

    name: str
    row: str
    seed: int
    state: str
    job_id: str = ""
    node: str = ""
    epoch: str = ""
    error: str = ""
    fraction: float = 0.0
    launcher: str = ""
    scheduler: str = ""

    @classmethod
    def of(cls, status) -> "LiveRun":
        """From an ``api.RunStatus`` (anything with the same attributes)."""
        return cls(str(status.name), str(status.row), int(status.seed), str(status.state), str(status.job_id or ""),
                   str(status.node or ""), str(status.epoch or ""), str(status.error or ""),
                   float(status.fraction or 0.0), str(status.launcher or ""), str(status.scheduler or ""))

    @property
    def active(self) -> bool:
        """Queued or running, or preempted and held by the scheduler again: its state will change."""
        return self.state in ACTIVE_STATES or (self.state == "preempted" and self.scheduler in SCHEDULER_HOLDS)

    def cells(self) -> tuple[str, ...]:
        """The live table's cells (:data:`LIVE_COLUMNS`)."""
        says_more = self.scheduler and self.state != "done" and self.scheduler.lower() != self.state
        state = f"{self.state} ({self.scheduler})" if says_more else self.state
        return (self.name, state, self.job_id or "—", self.node or "—", self.epoch or "—", self.error)


@dataclass(frozen=True)
class LiveStudy:
    """A study folder without study.json and its runs now."""

    folder: Path
    runs: tuple[LiveRun, ...]

    @classmethod
    def of(cls, folder, statuses) -> "LiveStudy":
        return cls(Path(folder), tuple(LiveRun.of(status) for status in statuses))

    @property
    def name(self) -> str:
        return self.folder.name

    @property
    def all_done(self) -> bool:
        return bool(self.runs) and all(run.state == "done" for run in self.runs)

    @property
    def active(self) -> bool:
        return any(run.active for run in self.runs)

    def counts(self) -> dict[str, int]:
        """``{state: runs}`` in a fixed order (running first, done last), states with no run left out."""
        return {state: n for state in STATE_ORDER if (n := sum(run.state == state for run in self.runs))}

    def summary(self) -> str:
        """'tiny · 4 runs: 1 running, 1 queued, 2 done · …' and what to do next."""
        counts = ", ".join(f"{n} {state}" for state, n in self.counts().items())
        head = f"{self.name} · {len(self.runs)} runs" + (f": {counts}" if counts else "")
        if self.all_done:
            return head + " · every run is done: Collect computes the statistics (study.json)"
        if self.active:
            return head + " · updated every few seconds"
        return head + " · nothing runs now: start the study again (Continue) to train what is missing"

    def progress(self) -> int:
        """Per mille of the study's training done (each run's share)."""
        return int(1000 * sum(run.fraction for run in self.runs) / len(self.runs)) if self.runs else 0

    def run_dir(self, name: str | None) -> Path | None:
        """The run directory of a run listed by name (None for another name)."""
        return self.folder / "runs" / name if name and any(run.name == name for run in self.runs) else None


# -- the "Start a study" form ----------------------------------------------------------------------------
@dataclass(frozen=True)
class StudyRequest:
    """What the form asks for: ``scing study`` of ``plan`` in ``workspace`` (into ``folder``)."""

    plan: str                 # study/NAME or a plan YAML file
    workspace: Path
    folder: Path              # WORKSPACE/studies/<plan name>: where the study is written
    seeds: int | None         # None: the plan's
    resume: bool              # the folder exists: continue it (more seeds welcome)
    launcher: object = None   # an api.LauncherSettings


def study_folder(workspace, plan: str) -> Path:
    """Where ``scing study`` writes ``plan``: ``WORKSPACE/studies/<name>``, the name being the plan file's
    stem (``study/table3-synthped`` -> ``table3-synthped``)."""
    return Path(workspace) / "studies" / Path(plan.strip()).stem


def plan_label(plan: str) -> str:
    """A plan as the combo lists it: shipped plans by name, files by their file name."""
    return plan if plan.startswith(PLAN_PREFIX) else Path(plan).name


def build_study_request(workspace, plan: str, seeds: int, studies, launcher=None,
                        plan_exists: bool = True) -> StudyRequest:
    """Validate the form (``seeds`` 0: the plan's; ``studies``: the workspace's study folders, to continue
    one that exists; ``plan_exists``: a plan file is there). Raises ValueError saying what to fix."""
    plan = plan.strip()
    if not plan:
        raise ValueError("choose a plan: a shipped one (study/NAME) or a plan YAML file")
    if not plan.startswith(PLAN_PREFIX) and not plan_exists:
        raise ValueError(f"plan file {plan} does not exist; choose another with …")
    if seeds < 0:
        raise ValueError("seeds must be at least 1 (0: the plan's)")
    folder = study_folder(workspace, plan)
    return StudyRequest(plan, Path(workspace), folder, seeds or None, folder in {Path(s) for s in studies}, launcher)


def start_label(workspace, plan: str, studies) -> str:
    """The start button's text: 'Continue study' when the plan's folder exists, else 'Start study'."""
    if workspace is None or not plan.strip():
        return "Start study"
    return "Continue study" if study_folder(workspace, plan) in {Path(s) for s in studies} else "Start study"
