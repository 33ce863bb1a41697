"""What the Saliency and Modality-gap panels share, without Qt: the runs to compare (listed, ticked), a
computation's life (a valid request starts it; its progress, its outcome or its failure arrive with its
ticket, and those of a computation overtaken by another, or started before another workspace was shown,
are dropped), the errors reported, what the results area shows and whether there is a figure to export.

Evented (psygnal, :mod:`app.state.evented`): each signal once per change, never when nothing changed.

- ``reset()``: another workspace is shown: runs (the default ones ticked), inputs, results, progress and
  errors were replaced at once;
- ``rows_changed()``: a rescan of the same workspace listed other runs;
- ``checked_changed(paths)``: the runs ticked;
- ``busy_changed(bool)``: a computation started or ended (the Compute button);
- ``progress_changed(str)``: the line under the buttons;
- ``shown_changed(object)``: what the results area shows: a :class:`Placeholder` or the results;
- ``exportable_changed(bool)``: there are results to export (the Export button);
- ``error_reported(str)`` (each report) and ``error_cleared()``: the error banner.

Subclasses name ``start_text`` and implement :meth:`request`, :meth:`_started`, :meth:`_show_outcome`
and :meth:`_show_failure`; :meth:`_clear_inputs` and :meth:`_switches_workspace` where they need to.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from psygnal import Signal

from app.state.evented import EventedState, Placeholder
from app.state.runs import default_comparison_runs


class AnalysisState(EventedState):
    """Runs to compare, a computation of them, and what it showed."""

    reset = Signal()
    rows_changed = Signal()
    checked_changed = Signal(tuple)
    busy_changed = Signal(bool)
    progress_changed = Signal(str)
    shown_changed = Signal(object)
    exportable_changed = Signal(bool)
    error_reported = Signal(str)
    error_cleared = Signal()

    EVENTED: ClassVar[dict[str, str]] = {
        "rows": "rows_changed", "checked": "checked_changed", "busy": "busy_changed",
        "progress": "progress_changed", "exportable": "exportable_changed", "shown": "shown_changed"}
    start_text = ""   # what the results area says before anything was computed

    def __init__(self) -> None:
        super().__init__()
        self.workspace: Path | None = None
        self.rows: tuple = ()                   # the workspace's runs (damaged ones left out)
        self.checked: tuple[Path, ...] = ()     # the runs ticked, in list order
        self.busy = False                       # a computation runs
        self.progress = ""
        self.shown: object = Placeholder(self.start_text)
        self.results = None                     # what Export writes (None: nothing computed yet)
        self._ticket = 0                        # the computation whose outcome is awaited

    @property
    def exportable(self) -> bool:
        return self.results is not None

    def method_of(self, run_name: str) -> str:
        """The method of a listed run ('' when it is not listed)."""
        return next((row.method for row in self.rows if row.name == run_name), "")

    # -- the workspace and its runs -------------------------------------------------------------------------
    def set_workspace(self, path, rows) -> None:
        """A workspace scan (``rows``: every run; damaged ones are not offered). Another workspace replaces
        everything (``reset``); a rescan keeps the ticks of runs still listed (the default runs when none is)."""
        path = Path(path) if path is not None else None
        rows = tuple(row for row in rows if not row.damaged)
        if self._switches_workspace(path, rows):
            with self._changing(reset=True):
                self.workspace, self.rows = path, rows
                self.checked = _ticked(rows, default_comparison_runs(rows))
                self._ticket += 1     # a computation still running is dropped when it arrives
                self.busy, self.progress, self.error = False, "", ""
                self.results, self.shown = None, Placeholder(self.start_text)
                self._clear_inputs()
            return
        with self._changing():
            self.checked = _ticked(rows, self.checked or default_comparison_runs(rows))
            self.rows = rows

    def _switches_workspace(self, path: Path | None, rows) -> bool:
        return path != self.workspace

    def _clear_inputs(self) -> None:
        """Forget inputs that belonged to the previous workspace (inside the reset)."""

    def set_checked(self, paths) -> None:
        """Tick exactly the listed runs among ``paths``."""
        with self._changing():
            self.checked = _ticked(self.rows, paths)

    # -- a computation --------------------------------------------------------------------------------------
    def request(self):
        """The request of the current inputs (has ``problems() -> list[str]``)."""
        raise NotImplementedError

    def start(self) -> tuple[int, object] | None:
        """Start computing the current request: ``(ticket, request)``, or None when the request has problems
        (they are reported). The outcome is handed back with the ticket (:meth:`finish` / :meth:`fail`)."""
        request = self.request()
        problems = request.problems()
        if problems:
            self.report_error("; ".join(problems))
            return None
        with self._changing():
            self._ticket += 1
            self._clear_error()
            self.busy = True
            self._started(request)
        return self._ticket, request

    def current(self, ticket: int) -> bool:
        """The computation of ``ticket`` is still awaited (not overtaken, not from another workspace)."""
        return ticket == self._ticket

    def set_progress(self, ticket: int, text: str) -> None:
        if self.current(ticket):
            with self._changing():
                self.progress = text

    def finish(self, ticket: int, outcome) -> None:
        """The outcome of the computation ``ticket`` (dropped when it is not awaited any more)."""
        if self.current(ticket):
            self.show_outcome(outcome)

    def show_outcome(self, outcome) -> None:
        """Show an outcome; runs that failed are reported, the others shown."""
        with self._changing():
            self.busy = False
            failed_runs = self._show_outcome(outcome)
            if failed_runs:
                self.report_error("; ".join(f"{run}: {message}" for run, message in failed_runs.items()))

    def fail(self, ticket: int, message: str) -> None:
        """The computation ``ticket`` failed: its error in place of the results, and reported."""
        if self.current(ticket):
            with self._changing():
                self.busy, self.progress = False, ""
                self._show_failure(message)
                self.report_error(message)

    def _started(self, request) -> None:
        """What changes when a computation starts (progress, the results area)."""

    def _show_outcome(self, outcome) -> dict:
        """Show the outcome; returns ``{run: error}`` of the runs that could not be used."""
        raise NotImplementedError

    def _show_failure(self, message: str) -> None:
        """The results area after a failed computation."""


def _ticked(rows, paths) -> tuple[Path, ...]:
    """The paths of ``rows`` among ``paths``, in list order."""
    wanted = {Path(path) for path in paths}
    return tuple(row.path for row in rows if row.path in wanted)
