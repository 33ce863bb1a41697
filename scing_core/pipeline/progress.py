"""How a pipeline (the demo, a study) reports progress: a small protocol the CLI (tqdm / plain lines)
or the GUI implements.

A pipeline calls ``plan`` once with every step and its expected duration (so a view can show one bar
whose ETA covers the whole build), then ``step_started`` / ``step_progress`` / ``step_finished`` per
step. ``step_progress`` gives the step's own completed fraction (0..1) and a short detail line.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class PlannedStep:
    """A step as the progress view sees it before the build starts."""

    name: str
    title: str
    expected_seconds: float   # 0 for a step that will be skipped
    todo: bool                # False: already finished, will be skipped


class PipelineProgress:
    """No-op base: override what you show."""

    def plan(self, steps: list[PlannedStep]) -> None: ...

    def step_started(self, name: str, title: str, expected_seconds: float) -> None: ...

    def step_progress(self, name: str, fraction: float, detail: str = "") -> None: ...

    def step_finished(self, name: str, action: str, seconds: float, note: str = "") -> None: ...


class StepStopped(Exception):
    """Raised inside a step when a stop was requested; the step's partial output is resumable."""


class StopFlag:
    """A thread-safe stop request (set by the CLI's SIGTERM / Ctrl-C handler, or the GUI)."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def request(self) -> None:
        self._event.set()

    @property
    def requested(self) -> bool:
        return self._event.is_set()


class StepReporter:
    """What a running step holds: its progress callback and the stop flag."""

    def __init__(self, name: str, progress: PipelineProgress, stop: StopFlag) -> None:
        self.name, self.progress, self.stop = name, progress, stop
        self._last = -1.0

    def fraction(self, value: float, detail: str = "") -> None:
        """Report ``value`` (0..1) done; raises :class:`StepStopped` when a stop was requested."""
        value = min(max(float(value), 0.0), 1.0)
        if value >= self._last:
            self._last = value
            self.progress.step_progress(self.name, value, detail)
        if self.stop.requested:
            raise StepStopped(self.name)

    def count(self, done: int, total: int, detail: str = "") -> None:
        """``fraction(done / total)``: the shape of SynthPed's ``progress(done, total)`` callback."""
        self.fraction(done / max(total, 1), detail or f"{done}/{total}")
