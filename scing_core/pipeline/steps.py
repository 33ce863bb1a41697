"""Steps and how a pipeline runs them: in order, skipping finished ones, one progress view, a step log.

A :class:`Step` knows its expected duration (for the ETA), whether its outputs are complete (then it
is skipped), whether it can run in this installation, and how to build or finish its outputs.
:func:`run_steps` runs a list of them and appends every outcome to a JSONL step log.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from scing_core.pipeline.progress import PipelineProgress, PlannedStep, StepReporter, StepStopped, StopFlag

log = logging.getLogger(__name__)


class Step:
    """One unit of a pipeline. Subclasses set ``name`` / ``title`` and implement the methods."""

    name = ""
    title = ""
    optional = False   # a failing optional step is logged and the pipeline goes on

    def expected_seconds(self) -> float:
        """Expected duration on a 2-core CPU when the step runs from scratch."""
        raise NotImplementedError

    def is_done(self) -> bool:
        """True when the step's outputs are complete (the step is then skipped)."""
        raise NotImplementedError

    def unavailable_reason(self) -> str:
        """Why the step cannot run in this installation ('' = it can)."""
        return ""

    def run(self, reporter: StepReporter) -> str:
        """Build (or finish) the outputs; returns ``ran`` or ``resumed``."""
        raise NotImplementedError


@dataclass(frozen=True)
class StepOutcome:
    """What one step did in one invocation."""

    step: str
    action: str            # ran | resumed | skipped | unavailable | stopped | failed
    seconds: float = 0.0
    note: str = ""
    cpu_seconds: float = 0.0   # process CPU time (all threads): the load-independent cost


@dataclass
class StepLog:
    """Appends one JSON line per step outcome to a JSONL file (flushed each time)."""

    path: Path
    invocation: str = field(default_factory=lambda: f"{time.time():.6f}-{os.getpid()}")

    def record(self, outcome: StepOutcome) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"v": 1, "time": round(time.time(), 3), "invocation": self.invocation, **asdict(outcome)})
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
            fh.flush()


def read_step_log(path) -> list[dict]:
    """Every outcome recorded in the step log at ``path``, oldest first (unreadable lines skipped)."""
    path = Path(path)
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def planned_step(step: Step) -> PlannedStep:
    """``step`` as a progress view sees it before the pipeline starts."""
    todo = not step.unavailable_reason() and not step.is_done()
    return PlannedStep(step.name, step.title, step.expected_seconds() if todo else 0.0, todo)


def run_steps(steps: list, progress: PipelineProgress, stop: StopFlag, log_path) -> tuple[list[StepOutcome], bool]:
    """Run ``steps`` in order (skipping finished ones) with one progress view; every outcome is appended
    to the JSONL ``log_path``. Returns ``(outcomes, stopped)``. A failing step that is not ``optional``
    raises after its outcome is logged; a stop request ends the loop after the current step."""
    progress.plan([planned_step(step) for step in steps])
    step_log = StepLog(Path(log_path))
    outcomes: list[StepOutcome] = []
    for step in steps:
        try:
            outcome = _run_step(step, progress, stop)
        except Exception as exc:
            outcome = StepOutcome(step.name, "failed", 0.0, f"{type(exc).__name__}: {exc}")
            members = member_outcomes(step, outcome)
            _record(step_log, outcomes, members)
            if not getattr(step, "optional", False):
                raise
            log.warning("%s failed (%s); the report says so", step.name, outcome.note)
        else:
            members = member_outcomes(step, outcome)
            _record(step_log, outcomes, members)
        action = _group_action(members) if hasattr(step, "steps") else outcome.action
        progress.step_finished(step.name, action, outcome.seconds, outcome.note)
        if action == "stopped":
            return outcomes, True
    return outcomes, False


def _record(step_log: StepLog, outcomes: list[StepOutcome], members: list[StepOutcome]) -> None:
    for member in members:
        step_log.record(member)
    outcomes.extend(members)


def member_outcomes(step, outcome: StepOutcome) -> list[StepOutcome]:
    """The outcomes to log for ``step``: its own, or each member's for a group of steps run at once
    (:class:`scing_core.pipeline.parallel.StepGroup`)."""
    members = getattr(step, "steps", None)
    if members is None:
        return [outcome]
    if getattr(step, "outcomes", None):
        return list(step.outcomes)
    if outcome.action in ("skipped", "unavailable", "stopped"):
        out = []
        for member in members:
            reason = member.unavailable_reason()
            out.append(StepOutcome(member.name, "unavailable", 0.0, reason) if reason else
                       StepOutcome(member.name, outcome.action if not member.is_done() else "skipped", 0.0, outcome.note))
        return out
    return [outcome]


def _group_action(members: list[StepOutcome]) -> str:
    """A group's action for the progress view: stopped or failed when a member was, else ran."""
    actions = {o.action for o in members}
    return next((a for a in ("failed", "stopped", "ran", "resumed") if a in actions), "skipped")


def _run_step(step, progress: PipelineProgress, stop: StopFlag) -> StepOutcome:
    reason = step.unavailable_reason()
    if reason:
        log.info("%s unavailable: %s", step.name, reason)
        return StepOutcome(step.name, "unavailable", 0.0, reason)
    if step.is_done():
        return StepOutcome(step.name, "skipped")
    if stop.requested:
        return StepOutcome(step.name, "stopped", 0.0, "stop requested before the step started")
    progress.step_started(step.name, step.title, step.expected_seconds())
    t0, c0 = time.time(), time.process_time()
    reporter = StepReporter(step.name, progress, stop)
    try:
        action = step.run(reporter)
    except StepStopped:
        action = "stopped"
    note = "stopped; re-run to continue" if action == "stopped" else ""
    return StepOutcome(step.name, action, round(time.time() - t0, 3), note, round(time.process_time() - c0, 3))
