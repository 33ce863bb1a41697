"""``build_demo``: run the demo's steps in order, skipping finished ones, with one progress view."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from scing_core.demo.progress import DemoProgress, DemoStopped, PlannedStep, StepReporter, StopFlag
from scing_core.demo.workspace import DemoSettings, DemoWorkspace, StepLog, StepOutcome

log = logging.getLogger(__name__)


@dataclass
class DemoResult:
    """What one ``build_demo`` call did."""

    workspace: Path
    settings: DemoSettings
    outcomes: list[StepOutcome] = field(default_factory=list)
    stopped: bool = False
    seconds: float = 0.0

    @property
    def report(self) -> Path:
        return self.workspace / "report.md"

    def actions(self) -> dict[str, str]:
        """step name -> action (ran | resumed | skipped | unavailable | stopped)."""
        return {o.step: o.action for o in self.outcomes}


def demo_steps(ws: DemoWorkspace, settings: DemoSettings) -> list:
    """Every step in build order: data, SynthCLIP, the three runs, the figures, the report."""
    from scing_core.demo.figures import build_figure_steps
    from scing_core.demo.report import ReportStep
    from scing_core.demo.steps import build_steps

    return [*build_steps(ws, settings), *build_figure_steps(ws, settings), ReportStep(ws, settings)]


def plan_demo(workspace=None, quick: bool = False, seed: int = 0) -> list[PlannedStep]:
    """What ``build_demo`` would do now: each step, its expected seconds and whether it is still to do."""
    ws = DemoWorkspace.at(workspace)
    settings = DemoSettings.for_mode(quick, seed)
    return [_planned(step) for step in demo_steps(ws, settings)]


def _planned(step) -> PlannedStep:
    todo = not step.unavailable_reason() and not step.is_done()
    return PlannedStep(step.name, step.title, step.expected_seconds() if todo else 0.0, todo)


def build_demo(workspace=None, quick: bool = False, seed: int = 0, progress: DemoProgress | None = None,
               stop: StopFlag | None = None) -> DemoResult:
    """Build (or finish) the demo workspace: SynthPed + SynthPed-Occluded, SynthCLIP, three runs
    (clipreid, cocoop, scing) trained on SynthPed-Occluded and evaluated on both test splits, the
    analysis figures and ``report.md``.

    ``workspace`` defaults to :func:`scing_core.paths.default_demo_workspace`. Finished steps are
    skipped, interrupted ones resumed; every outcome is appended to ``demo-log.jsonl``. A ``stop``
    request ends the build after the current training step (with a checkpoint) or image; a later
    call continues from there. Raises InputError when the workspace was built with other settings.
    """
    progress = progress or DemoProgress()
    stop = stop or StopFlag()
    ws = DemoWorkspace.at(workspace)
    settings = DemoSettings.for_mode(quick, seed)
    ws.check_settings(settings)
    steps = demo_steps(ws, settings)
    started = time.time()
    result = DemoResult(ws.root, settings)
    result.outcomes, result.stopped = run_steps(steps, progress, stop, ws.log)
    result.seconds = time.time() - started
    return result


def run_steps(steps: list, progress: DemoProgress, stop: StopFlag, log_path) -> tuple[list[StepOutcome], bool]:
    """Run ``steps`` in order (skipping finished ones) with one progress view; every outcome is appended
    to the JSONL ``log_path``. Returns ``(outcomes, stopped)``. A failing step that is not ``optional``
    raises after its outcome is logged; a stop request ends the loop after the current step."""
    progress.plan([_planned(step) for step in steps])
    step_log = StepLog(log_path)
    outcomes: list[StepOutcome] = []
    for step in steps:
        try:
            outcome = _run_step(step, progress, stop)
        except Exception as exc:
            failed = StepOutcome(step.name, "failed", 0.0, f"{type(exc).__name__}: {exc}")
            step_log.record(failed)
            if not getattr(step, "optional", False):
                raise
            log.warning("%s failed (%s); the report says so", step.name, failed.note)
            outcome = failed
        else:
            step_log.record(outcome)
        outcomes.append(outcome)
        progress.step_finished(outcome.step, outcome.action, outcome.seconds, outcome.note)
        if outcome.action == "stopped":
            return outcomes, True
    return outcomes, False


def _run_step(step, progress: DemoProgress, stop: StopFlag) -> StepOutcome:
    reason = step.unavailable_reason()
    if reason:
        log.info("demo: %s unavailable: %s", step.name, reason)
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
    except DemoStopped:
        action = "stopped"
    note = "stopped; re-run to continue" if action == "stopped" else ""
    return StepOutcome(step.name, action, round(time.time() - t0, 3), note, round(time.process_time() - c0, 3))
