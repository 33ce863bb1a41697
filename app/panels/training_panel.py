"""Training: the workspace's runs, a "New run" form, live curves (one run, or several overlaid) and the
process log.

Training never runs in this process: a run starts as ``scing train`` in a QProcess
(:class:`app.services.training_process.TrainingJob`), or is submitted to a Slurm cluster by one
(:mod:`app.panels.training_jobs`: the jobs, their Stop / Resume and the scheduler's polls); its curves
come from events.jsonl (:class:`app.panels.training_sources.CurveSources` reads and follows the runs shown).

The panel's model is :class:`app.state.training.TrainingState` (``self.runs``): the panel gathers
every run's facts (process liveness, its own jobs, the events read) on a timer and whenever events
arrive or a job ends, and hands them over; the state decides the statuses and what Resume / Stop allow
and emits what changed. The table, the title and the buttons subscribe, so they always agree.

Every new selection (or new set of ticked runs) clears the plots first, then draws what has been
read; a run whose events cannot be read shows the error in place of its data.

TensorBoard-style views (:mod:`app.panels.training_views`): the x axis (step, epoch or wall time) and
"Export series…" above the plots, a value readout under them, a regex run filter above the run table
and a "Hyper-parameters" tab (the config keys that differ between the runs, final metrics last).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QSplitter, QTabWidget, QVBoxLayout, QWidget

from app.panels.training_jobs import TrainingJobsMixin
from app.panels.training_sources import CurveSources
from app.panels.training_views import TrainingViewsMixin
from app.services import core_client
from app.services.training_process import TrainingJob
from app.services.workers import WorkerPool
from app.state.curves import TrainingCurves
from app.state.runs import RunRow
from app.state.test_sets import on_first_test_set
from app.state.training import RunActions, TrainingState
from app.state.training_header import describe_selected
from app.state.training_overlay import PlottedRun, eval_datasets, eval_x_range, loss_terms, plot_lines
from app.widgets.error_banner import ErrorBanner
from app.widgets.layout import STRETCH, hbox, vbox, widget_of
from app.widgets.log_view import LogView
from app.widgets.new_run_form import NewRunForm
from app.widgets.run_table import RunTable
from app.widgets.training_controls import TrainingPlotControls
from app.widgets.training_labels import ElidedLabel, never_widen
from app.widgets.training_plots import TrainingPlotsWidget

STATUS_POLL_MS = 1000     # how often every run's facts are gathered again (pid liveness + events)
NOT_STARTED_HERE_LOG = ("This run was not started from this window: its console output is not available here; "
                        "the curves come from its events.jsonl.")


NEW_ITEMS_PER_TURN = 3   # plot items made per event-loop turn when the plots are drawn after a scan


class TrainingPanel(TrainingJobsMixin, TrainingViewsMixin, QWidget):
    errorOccurred = Signal(str)
    statusMessage = Signal(str)
    runsChanged = Signal()          # the workspace should be rescanned (a run appeared or finished)
    runAdded = Signal(object)       # a run started here that the list did not hold yet (its run directory)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.workspace: Path | None = None
        self.runs = TrainingState()
        self.jobs: dict[Path, TrainingJob] = {}
        self._showing = False   # inside _show_plotted: it draws once the runs shown are read
        self._scanning = False  # inside set_workspace: the plots are drawn on the next event-loop turn
        self._line_cache: dict = {}   # plot_lines' cache: a live tick rebuilds only the run that trains
        self._plot_timer = QTimer(self, singleShot=True, interval=1)   # a real timer: input and paints go first
        self._plot_timer.timeout.connect(self._plot_in_turns)
        self.workers = WorkerPool(self)
        self.sources = CurveSources(self.workers, self)
        self.sources.changed.connect(self._curves_changed)
        self.sources.runStarted.connect(lambda _path: self.runsChanged.emit())
        self._build()
        self._subscribe()
        self.set_presets(core_client.presets())
        self.status_timer = QTimer(self)
        self.status_timer.setInterval(STATUS_POLL_MS)
        self.status_timer.timeout.connect(self.refresh_statuses)
        self.status_timer.start()
        self._start_scheduler_polls()

    @property
    def curves(self) -> dict[Path, TrainingCurves]:
        return self.sources.curves

    @property
    def stream(self):
        """The event stream following the selected run (None when it is not followed)."""
        return self.sources.streams.get(self.runs.selected) if self.runs.selected else None

    # -- layout ------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.banner = ErrorBanner()
        never_widen(self.banner.label)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self._build_run_list())
        splitter.addWidget(self._build_run_view())
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 5)
        splitter.setSizes([520, 880])
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addWidget(splitter, 1)
        self._draw_actions(self.runs.actions)

    def _subscribe(self) -> None:
        """The state emits, the panel draws (the table subscribes itself)."""
        self.runs.rows_changed.connect(self._rows_changed)
        self.runs.selection_changed.connect(self.show_run)
        self.runs.overlay_changed.connect(self._show_plotted)
        self.runs.statuses_changed.connect(self._show_selected)
        self.runs.actions_changed.connect(self._draw_actions)
        self.runs.runs_ended_elsewhere.connect(self._runs_ended_elsewhere)

    def _build_run_list(self) -> QWidget:
        self.table = RunTable(self.runs)
        self.refresh_button = _button("Refresh", "Rescan the workspace for run directories", self.runsChanged)
        self.resume_button = _button("Resume", RunActions().resume_tooltip, self.resume_selected)
        self.stop_button = _button("Stop", RunActions().stop_tooltip, self.stop_selected)
        self.form = NewRunForm()
        self.form.launchRequested.connect(self.launch)
        self.form.invalid.connect(self._report_error)
        self.empty_label = never_widen(QLabel())
        self.empty_label.setWordWrap(True)
        self.empty_label.setStyleSheet("color: #666;")
        self.details = never_widen(QLabel())
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.details.setStyleSheet("QLabel { background: white; border: 1px solid #D0D0D0; padding: 6px; }")
        buttons = hbox(self.refresh_button, self.resume_button, self.stop_button, STRETCH)
        hint = QLabel("<b>Runs in this workspace</b> <span style='color:#777'>· tick runs to overlay them</span>")
        return widget_of(vbox(hint, self._build_filter(), (self.table, 2), self.empty_label, (self.details, 1), buttons,
                              self.form))

    def _build_run_view(self) -> QWidget:
        self.title = ElidedLabel("Select a run")
        self.title.setStyleSheet("font-size: 13pt; font-weight: bold;")
        self.progress_label = ElidedLabel("", Qt.TextElideMode.ElideRight)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setFixedHeight(8)
        self.plots = TrainingPlotsWidget(build_in_turns=True)   # its plots over the next event-loop turns
        self.controls = never_widen(TrainingPlotControls())   # squeezes rather than widen a narrow window
        self.controls.changed.connect(self.redraw)
        self.controls.logScaleToggled.connect(self.plots.set_log_losses)
        self.log_scale = self.controls.log_scale
        self.log = LogView(placeholder="Console output of runs started from this window appears here.")
        self.bottom_tabs = QTabWidget()
        self.bottom_tabs.addTab(self._build_hparams(), "Hyper-parameters")
        self.bottom_tabs.addTab(self.log, "Console output")
        view = self.view_splitter = QSplitter(Qt.Orientation.Vertical)
        view.addWidget(widget_of(vbox(self.title, self.progress_label, self.progress, self.controls, (self.plots, 1))))
        view.addWidget(self.bottom_tabs)
        view.setStretchFactor(0, 3)
        view.setStretchFactor(1, 1)
        view.setSizes([680, 200])   # the plots come a few turns later: their sizes would not set the split
        return view

    # -- the window's panel protocol (app/panels/registry.py) -------------------------------------------
    def workspace_changed(self, path, rows) -> None:
        self.set_workspace(path, rows)

    def screenshot_wanted(self) -> bool:
        return True

    def screenshot_start(self, runs):
        return (lambda: self.select_run(runs.scing)) if runs.scing else None

    def set_workspace(self, workspace, rows: list[RunRow]) -> None:
        """New scan results (same or another workspace); keeps the selection, the ticks and running jobs."""
        new_workspace = self.workspace is None or Path(workspace) != self.workspace
        self.workspace = Path(workspace)
        rows = [on_first_test_set(row) for row in rows]   # the split Retrieval opens first (app/state/test_sets.py)
        self._scanning = True   # the table first; the plots (a dozen new items on a first draw) a turn later
        try:
            jobs = {path: "not-started" if job.submits else job.current_status() for path, job in self.jobs.items()}
            self.runs.show_scan(self.workspace, rows, jobs,
                                running=[path for path, job in self.jobs.items() if job.is_running()],
                                new_workspace=new_workspace)
        finally:
            self._scanning = False
        self.form.set_workspace(self.workspace, [row.name for row in self.runs.rows])
        self.refresh_statuses()
        self.poll_scheduler(everything=True)   # runs submitted before (or elsewhere): what their jobs do

    def _rows_changed(self) -> None:
        self.empty_label.setText(self.runs.empty_text)
        self.empty_label.setVisible(not self.runs.rows)
        self._show_plotted()

    def set_presets(self, presets: list[str]) -> None:
        self.form.set_presets(presets)

    # -- selection, overlay and plots ----------------------------------------------------------------
    def select_run(self, path) -> None:
        """Select the run at ``path`` (the table and the plots follow the state)."""
        self.runs.select(path)

    def set_overlaid(self, paths) -> None:
        """Tick exactly these runs (their curves are drawn together, one colour per run)."""
        self.runs.set_overlaid_runs(paths)

    def show_run(self, path) -> None:
        """Show the selected run's details and log; the plots start again from a clean slate."""
        path = Path(path) if path is not None else None
        job = self.jobs.get(path) if path is not None else None
        self.log.set_text("".join(job.log_text) if job is not None else "")
        if job is None and path is not None:
            self.log.setPlaceholderText(NOT_STARTED_HERE_LOG)
        if path is not None and path in self.sources.errors:
            self.sources.load(path)   # selected again: try reading it once more
        self._show_plotted()

    def _plot_in_turns(self) -> None:
        """The plots after a scan, a few new plot items per event-loop turn: a first draw makes a dozen
        or more (each a few ms with its legend entry), and the paints that follow come in between."""
        self._show_plotted(max_new_items=NEW_ITEMS_PER_TURN)

    def _show_plotted(self, *_, max_new_items: int | None = None) -> None:
        """Read (or keep) the events of the runs drawn and of the selected one, then draw exactly their
        lines: a run still loading or unreadable shows why in place of data, never another run's lines."""
        if self._scanning:
            self.plots.hide_lines()
            self._plot_timer.start()
            self._show_selected()
            return
        self._plot_timer.stop()
        shown = [path for path, _ in self.runs.plotted()]
        row = self.runs.selected_row
        if row is not None and not row.damaged and row.path not in shown:
            shown.append(row.path)
        self._showing = True   # a small log loads at once: draw once, below, not once per run loaded
        try:
            self.sources.show(shown, owned=[path for path, job in self.jobs.items() if not job.submits])
        finally:
            self._showing = False
        if self.redraw(NEW_ITEMS_PER_TURN if max_new_items is None else max_new_items):
            self._plot_timer.start()   # the rest on the next turn (paints and input come in between)
        self._show_selected()

    def redraw(self, max_new_items: int | None = None) -> int:
        """Draw the plotted runs' curves with the current smoothing / loss term / test set; the lines left
        for a later turn when ``max_new_items`` limits the new plot items made now."""
        plotted = self.runs.plotted()
        runs = [PlottedRun(path.name, colour, self.curves[path]) for path, colour in plotted if path in self.curves]
        overlay = len(plotted) > 1
        self.controls.set_choices(loss_terms(runs), eval_datasets(runs), overlay)
        options = self.controls.options()
        self.plots.set_x_axis(options.x_axis)
        lines = plot_lines(runs, options, self._line_cache)   # unchanged runs: the same lines, not rebuilt
        return self.plots.show_lines(lines, eval_x_range(runs, options.x_axis),
                                     self._empty_message(), overlay, max_new_items)

    def _empty_message(self) -> str:
        return self.runs.plot_placeholder(self.sources.errors, self.sources.loading)

    def _curves_changed(self, path: Path) -> None:
        if path in self.sources.errors:
            self._report_error(f"could not read the events of {path.name}: {self.sources.errors[path]}")
        self.refresh_statuses()
        if self._showing:
            return
        if path in {p for p, _ in self.runs.plotted()} and self.redraw(NEW_ITEMS_PER_TURN):
            self._plot_timer.start()   # a run just read: its new plot items over a few event-loop turns
        if path == self.runs.selected:
            self._show_selected()

    # -- the selected run's header and details ---------------------------------------------------------
    def _show_selected(self) -> None:
        row = self.runs.selected_row
        status = self.runs.status_of(row) if row is not None else ""
        header = describe_selected(row, status, self.curves.get(row.path) if row else None,
                                   self.sources.errors.get(row.path) if row else None,
                                   self.runs.job_of(row.path) if row else None)
        self.title.setText(header.title)
        self.progress_label.setText(header.progress_text)
        self.details.setText(header.details_html)
        self.progress.setValue(header.progress)

    def _draw_actions(self, actions: RunActions) -> None:
        self.stop_button.setEnabled(actions.stop)
        self.stop_button.setToolTip(actions.stop_tooltip)
        self.resume_button.setEnabled(actions.resume)
        self.resume_button.setToolTip(actions.resume_tooltip)

    # -- facts: gathered on a timer, judged by the state -------------------------------------------------
    def refresh_statuses(self) -> None:
        """Gather every run's facts (process liveness, jobs, events) for the state, which emits what changed;
        a shown run that runs elsewhere (or waits in a scheduler's queue) and is not followed is read again
        and followed."""
        self.runs.set_facts({row.path: self._facts(row) for row in self.runs.rows})
        shown = set(self.sources.curves) | {path for path, _ in self.runs.plotted()}
        for path in self.runs.running_elsewhere():
            if path in shown and not self.sources.following(path) and not self.sources.loading(path):
                self.sources.load(path, follow=True)   # (re)started elsewhere: read it again and follow it
                job = self.runs.job_of(path)
                where = (f"{job.launcher} job {job.job_id}" if job is not None
                         else "submitted from here" if path in self.jobs else "started outside this window")
                self.statusMessage.emit(f"following {path.name} ({where})")

    def _runs_ended_elsewhere(self, _paths) -> None:
        self.runsChanged.emit()   # finished or killed elsewhere: a rescan brings their final metrics

    def _report_error(self, message: str) -> None:
        self.banner.show_error(message)
        self.errorOccurred.emit(message)

    # -- lifecycle -----------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Window closing: runs keep their checkpoints; stop them and wait briefly."""
        self.status_timer.stop()
        self.scheduler_timer.stop()
        for job in self.running_jobs():
            job.stop()
            job.process.process.waitForFinished(15000)
        self.sources.stop_all()


def _button(text: str, tooltip: str, slot) -> QPushButton:
    button = QPushButton(text)
    button.setToolTip(tooltip)
    button.clicked.connect(slot)
    return button
