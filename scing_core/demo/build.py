"""``build_demo``: run the demo's steps in order (``scing_core.pipeline.run_steps``), skipping finished ones,
with one progress view."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from scing_core.demo.workspace import METHODS, DemoSettings, DemoWorkspace
from scing_core.pipeline.parallel import StepGroup
from scing_core.pipeline.progress import PipelineProgress, PlannedStep, StopFlag
from scing_core.pipeline.steps import StepOutcome, planned_step, run_steps
from scing_core.pipeline.synthetic import synth_steps



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


# A group with less expected work (idle 2-core seconds) runs in turn in this process: every quick-demo group.
# Measured (benchmarks/bench_demo_parallel.py, 2-core host): the quick demo with its data group in processes
# took 130 s against 122 s in turn (same metrics); the full demo's groups, in processes, 393 s against 492 s.
INLINE_BELOW_S = 30.0


def demo_steps(ws: DemoWorkspace, settings: DemoSettings, parallel: bool = True) -> list:
    """Every step in build order: data and SynthCLIP, the three runs, the figures, the report. With
    ``parallel`` (the default) each of the first three is a group whose members run at once, one
    process each (``scing_core.pipeline.parallel``): the demo uses every core of the machine."""
    # here, these three: the steps load torch, and the demo package (DemoWorkspace, whose users include
    # api.launch_overrides, *fast*: the studio's New run form) imports this module
    from scing_core.demo.figures import build_figure_steps
    from scing_core.demo.report import ReportStep   # here: see above
    from scing_core.demo.steps import RunStep   # here: see above

    data = synth_steps(ws, settings)
    runs = [RunStep(ws, settings, method) for method in METHODS]
    figures = build_figure_steps(ws, settings)
    if not parallel:
        return [*data, *runs, *figures, ReportStep(ws, settings)]
    # a process of its own costs seconds of imports: a group with less work than INLINE_BELOW_S runs here
    return [StepGroup("data", "SynthPed, SynthPed-Occluded and SynthCLIP", data, inline_below=INLINE_BELOW_S),
            StepGroup("runs", "CLIP-ReID, CoCoOp and SCING", runs, inline_below=INLINE_BELOW_S),
            StepGroup("figures", "analysis figures", figures, processes=os.cpu_count() or 1, inline_below=INLINE_BELOW_S),
            ReportStep(ws, settings)]


def plan_demo(workspace=None, quick: bool = False, seed: int = 0) -> list[PlannedStep]:
    """What ``build_demo`` would do now: each step, its expected seconds and whether it is still to do."""
    ws = DemoWorkspace.at(workspace)
    settings = DemoSettings.for_mode(quick, seed)
    return [planned_step(step) for step in demo_steps(ws, settings, parallel=False)]


def build_demo(workspace=None, quick: bool = False, seed: int = 0, progress: PipelineProgress | None = None,
               stop: StopFlag | None = None, parallel: bool = True) -> DemoResult:
    """Build (or finish) the demo workspace: SynthPed + SynthPed-Occluded, SynthCLIP, three runs
    (clipreid, cocoop, scing) trained on SynthPed-Occluded and evaluated on both test splits, the
    analysis figures and ``report.md``.

    ``workspace`` defaults to :func:`scing_core.paths.default_demo_workspace`. Finished steps are
    skipped, interrupted ones resumed; every outcome is appended to ``demo-log.jsonl``. A ``stop``
    request ends the build after the current training step (with a checkpoint) or image; a later
    call continues from there. Raises InputError when the workspace was built with other settings.
    """
    progress = progress or PipelineProgress()
    stop = stop or StopFlag()
    ws = DemoWorkspace.at(workspace)
    settings = DemoSettings.for_mode(quick, seed)
    ws.check_settings(settings)
    steps = demo_steps(ws, settings, parallel)
    started = time.time()
    result = DemoResult(ws.root, settings)
    result.outcomes, result.stopped = run_steps(steps, progress, stop, ws.log)
    result.seconds = time.time() - started
    return result
