"""What the Saliency and Modality-gap panels share: runs to compare, a Compute button that validates
the request and runs the core in a worker, an Export button that writes the core's paper-style
figure, and one error banner. Subclasses build their own options and draw their own results.

A different workspace clears the view before anything of it is shown (:meth:`set_workspace`), and
results of a computation started before are dropped when they arrive; a failed computation shows
its error in place of the results (:meth:`_show_failure`).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFileDialog, QLabel, QPushButton, QWidget

from app.services.workers import WorkerPool
from app.state.runs import default_comparison_runs
from app.widgets.error_banner import ErrorBanner
from app.widgets.run_checklist import RunChecklist


class AnalysisPanel(QWidget):
    """Base of a panel that computes one analysis over several runs.

    Subclasses set ``compute_label`` / ``export_name`` / ``export_tooltip``, call
    :meth:`_build_common` first in their constructor, and implement :meth:`request`,
    :meth:`_compute_function`, :meth:`_export_function`, :meth:`_export_payload` and
    :meth:`_show_results`. ``_compute_started`` / ``_compute_failed_view`` adjust their own view;
    ``_clear_results`` empties it (a new workspace).
    """

    errorOccurred = Signal(str)
    statusMessage = Signal(str)

    compute_label = "Compute"
    export_name = "figure.png"     # default file name of the export dialog; also names the analysis
    export_tooltip = "Paper-style figure (PNG + PDF) with the core's figure code"

    def _build_common(self) -> None:
        self.workers = WorkerPool(self)
        self.run_methods: dict[str, str] = {}
        self.banner = ErrorBanner()
        self.runs = RunChecklist()
        self.compute_button = QPushButton(self.compute_label)
        self.compute_button.setDefault(True)
        self.compute_button.clicked.connect(self.compute)
        self.export_button = QPushButton("Export figure…")
        self.export_button.setToolTip(self.export_tooltip)
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(self._export_clicked)
        self.progress = QLabel("")
        self.progress.setWordWrap(True)
        self.workspace: Path | None = None
        self._token = 0   # bumped by clear_view: results of earlier computations are dropped

    # -- what subclasses provide -----------------------------------------------------------------------
    def request(self):
        """The analysis request from the widgets (has ``problems() -> list[str]``)."""
        raise NotImplementedError

    def _compute_function(self):
        raise NotImplementedError

    def _export_function(self):
        raise NotImplementedError

    def _export_payload(self):
        raise NotImplementedError

    def _show_results(self, outcome) -> None:
        raise NotImplementedError

    def _compute_started(self, request) -> None:
        """Update the view when a computation starts."""

    def _compute_failed_view(self) -> None:
        """Update the view when a computation failed."""

    def _show_failure(self, message: str) -> None:
        """Show a failed computation's error in place of the results (default: ``_compute_failed_view``)."""
        self._compute_failed_view()

    def _clear_results(self) -> None:
        """Empty the results view (a new workspace is shown)."""

    # -- shared behaviour ------------------------------------------------------------------------------
    # -- the window's panel protocol (app/panels/registry.py) -------------------------------------------
    def workspace_changed(self, path, rows) -> None:
        self.set_workspace(path, [row for row in rows if not row.damaged])

    def screenshot_wanted(self) -> bool:
        return True

    def screenshot_start(self, runs):
        return self.compute

    def set_workspace(self, workspace, rows) -> None:
        """A workspace scan's runs; a different workspace than the one shown clears the view first."""
        path = Path(workspace) if workspace is not None else None
        if path != self.workspace:
            self.workspace = path
            self.clear_view()
        self.set_runs(rows)

    def clear_view(self) -> None:
        """Forget what is shown: results, errors, progress; computations still running are dropped."""
        self._token += 1
        self.banner.hide()
        self.progress.setText("")
        self.export_button.setEnabled(False)
        self.compute_button.setEnabled(True)
        self._clear_results()

    def set_runs(self, rows) -> None:
        self.runs.set_runs(rows, default_comparison_runs(rows))
        self.run_methods = {row.name: row.method for row in rows}

    def compute(self) -> bool:
        """Validate the request and start the computation in a worker; False when the request is invalid."""
        request = self.request()
        problems = request.problems()
        if problems:
            self._report_error("; ".join(problems))
            return False
        self.banner.hide()
        self.compute_button.setEnabled(False)
        self._compute_started(request)
        token = self._token

        def current() -> bool:   # False once clear_view dropped this computation
            return token == self._token

        self.workers.start(self._compute_function(), request,
                           on_result=lambda outcome: self._results_arrived(outcome) if current() else None,
                           on_error=lambda message: self._compute_failed(message) if current() else None,
                           on_progress=lambda text: self.progress.setText(text) if current() else None)
        return True

    def _results_arrived(self, outcome) -> None:
        self.compute_button.setEnabled(True)
        self._show_results(outcome)

    def _report_failed_runs(self, failed_runs: dict) -> None:
        if failed_runs:
            self._report_error("; ".join(f"{run}: {message}" for run, message in failed_runs.items()))

    def _compute_failed(self, message: str) -> None:
        self.compute_button.setEnabled(True)
        self.progress.setText("")
        self._show_failure(message)
        self._report_error(message)

    def _export_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export figure", self.export_name, "PNG (*.png)")
        if path:
            self.export_figure(path)

    def export_figure(self, out_path):
        """Write the figure in a worker; returns the worker (its ``signals.result`` carries the path)."""
        return self.workers.start(self._export_function(), self._export_payload(), out_path,
                                  on_result=lambda p: self.statusMessage.emit(f"figure written: {p}"),
                                  on_error=self._report_error)

    def _report_error(self, message: str) -> None:
        self.banner.show_error(message)
        self.errorOccurred.emit(message)
