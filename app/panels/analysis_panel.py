"""What the Saliency and Modality-gap panels share: runs to compare, a Compute button that validates
the request and runs the core in a worker, an Export button that writes the core's paper-style
figure, and one error banner. Subclasses build their own options and draw their own results.

The panel's model is an :class:`app.state.analysis.AnalysisState` (``self.state``): clicks and workers
only write to it (a workspace scan, a tick, a computation's ticket, progress and outcome); the widgets
subscribe and draw. A different workspace clears everything at once, and the outcome of a computation
started before is dropped when it arrives; a failed computation shows its error in place of the results.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFileDialog, QLabel, QPushButton, QWidget

from app.services.workers import WorkerPool
from app.widgets.error_banner import ErrorBanner
from app.widgets.run_checklist import RunChecklist


class AnalysisPanel(QWidget):
    """Base of a panel that computes one analysis over several runs.

    Subclasses set ``compute_label`` / ``export_name`` / ``export_tooltip``, call
    :meth:`_build_common` with their state first in their constructor, then build their widgets and call
    :meth:`_subscribe`; they implement :meth:`_compute_function`, :meth:`_export_function`,
    :meth:`_draw_shown` (a ``Placeholder`` or the results) and :meth:`_draw_inputs`.
    """

    errorOccurred = Signal(str)
    statusMessage = Signal(str)

    compute_label = "Compute"
    export_name = "figure.png"     # default file name of the export dialog; also names the analysis
    export_tooltip = "Paper-style figure (PNG + PDF) with the core's figure code"

    def _build_common(self, state) -> None:
        self.state = state
        self.workers = WorkerPool(self)
        self.banner = ErrorBanner()
        self.runs = RunChecklist(state)
        self.compute_button = QPushButton(self.compute_label)
        self.compute_button.setDefault(True)
        self.compute_button.clicked.connect(self.compute)
        self.export_button = QPushButton("Export figure…")
        self.export_button.setToolTip(self.export_tooltip)
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(self._export_clicked)
        self.progress = QLabel("")
        self.progress.setWordWrap(True)

    def _subscribe(self) -> None:
        """The state emits, the widgets draw (the run list subscribes itself)."""
        state = self.state
        state.reset.connect(self._draw_all)
        state.busy_changed.connect(lambda busy: self.compute_button.setEnabled(not busy))
        state.progress_changed.connect(lambda text: self.progress.setText(text))
        state.exportable_changed.connect(lambda exportable: self.export_button.setEnabled(exportable))
        state.shown_changed.connect(self._draw_shown)
        state.error_reported.connect(self._error_reported)
        state.error_cleared.connect(lambda: self.banner.hide())
        self._draw_all()

    def _draw_all(self) -> None:
        """Everything from the state (a new panel, another workspace)."""
        state = self.state
        self.compute_button.setEnabled(not state.busy)
        self.progress.setText(state.progress)
        self.export_button.setEnabled(state.exportable)
        if state.error:
            self.banner.show_error(state.error)
        else:
            self.banner.hide()
        self._draw_inputs()
        self._draw_shown(state.shown)

    # -- what subclasses provide -----------------------------------------------------------------------
    def _compute_function(self):
        raise NotImplementedError

    def _export_function(self):
        raise NotImplementedError

    def _draw_shown(self, shown) -> None:
        raise NotImplementedError

    def _draw_inputs(self, *_) -> None:
        """Show the state's inputs in the option widgets."""

    # -- the window's panel protocol (app/panels/registry.py) -------------------------------------------
    def workspace_changed(self, path, rows) -> None:
        self.state.set_workspace(path, rows)

    def screenshot_wanted(self) -> bool:
        return True

    def screenshot_start(self, runs):
        return self.compute

    # -- shared behaviour ------------------------------------------------------------------------------
    @property
    def workspace(self):
        return self.state.workspace

    def request(self):
        """The analysis request of the inputs shown (has ``problems() -> list[str]``)."""
        return self.state.request()

    def compute(self) -> bool:
        """Validate the request and start the computation in a worker; False when the request is invalid."""
        started = self.state.start()
        if started is None:
            return False
        ticket, request = started
        state = self.state
        self.workers.start(self._compute_function(), request,
                           on_result=lambda outcome: state.finish(ticket, outcome),
                           on_error=lambda message: state.fail(ticket, message),
                           on_progress=lambda text: state.set_progress(ticket, text))
        return True

    def _error_reported(self, message: str) -> None:
        self.banner.show_error(message)
        self.errorOccurred.emit(message)

    def _export_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export figure", self.export_name, "PNG (*.png)")
        if path:
            self.export_figure(path)

    def export_figure(self, out_path):
        """Write the figure in a worker; returns the worker (its ``signals.result`` carries the path)."""
        return self.workers.start(self._export_function(), self.state.export_payload(), out_path,
                                  on_result=lambda p: self.statusMessage.emit(f"figure written: {p}"),
                                  on_error=self.state.report_error)
