"""Study (``scing study``): a plan's rows trained with several seeds, and how sure their differences are.

Pick one of the workspace's studies and a test set: the table gives every row's mAP and R1 as mean
[95 % t interval] over seeds, the forest plot the paired per-query ΔAP of every row against the
reference row (bootstrap interval over seeds × queries, each seed's ΔAP as a dot), and the line above
them the plan, its seeds and the sign tests. study.json is read in a worker; double-clicking a row (or
"Open runs") opens that row's first finished seed in the Training tab (``openRun``).

The panel also starts studies (**New study**: a plan, its seeds and where the runs train — this
process, this machine several at once, or a Slurm cluster) as a ``scing study`` child process whose output
streams to the log below. A study without study.json yet (running, submitted to Slurm, or trained but not
collected; one started elsewhere too) shows its runs' live states instead of the statistics (run, state,
job id, node, epoch reached, last error; ``api.study_status`` in a worker every ~2 s while any run is
queued or running, or the child runs), and **Collect** once every run is done.

The panel's model is :class:`app.state.study.StudyState` (``self.state``): the studies, the one shown, its
test set and the row selected; the widgets write to it and draw what it emits.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer, Qt, Signal
from PySide6.QtWidgets import QComboBox, QLabel, QPushButton, QSplitter, QStackedWidget, QVBoxLayout, QWidget

from app.panels.study_runs import COLLECT, STOPPED_EXIT, STUDY, StudyProcess, StudyRunsPage
from app.services import core_client
from app.services.workers import WorkerPool
from app.state.evented import Placeholder
from app.state.study import NO_STUDIES, StudyState
from app.state.study_live import LiveStudy
from app.widgets.error_banner import ErrorBanner, wrap_anywhere
from app.widgets.forest_plot import BAR_COLOR, MEAN_COLOR, SEED_COLOR, ForestPlotWidget
from app.widgets.layout import STRETCH, hbox, vbox, widget_of
from app.widgets.log_view import LogView
from app.widgets.study_launch_form import StudyLaunchForm
from app.widgets.study_table import StudyTable
from app.widgets.training_labels import never_widen

__all__ = ["NO_STUDIES", "StudyPanel"]

MESSAGE_STYLES = {"note": "color: #666; font-size: 11pt;", "error": "color: #8A1C12; font-size: 11pt;"}
LEGEND = (f"<span style='color:{BAR_COLOR}'>━━</span> 95 % interval (bootstrap over seeds × queries) &nbsp; "
          f"<span style='color:{MEAN_COLOR}'>◆</span> mean ΔAP &nbsp; "
          f"<span style='color:{SEED_COLOR}'>●</span> one seed &nbsp; <span style='color:#777'>┆</span> no difference"
          " &nbsp;·&nbsp; right of 0: better than the reference")
LAUNCH_FORM_MAX_PX = 900
LIVE_POLL_MS = 2000   # how often a study without statistics is asked about while its runs may change


class StudyPanel(QWidget):
    """``set_workspace(path)`` lists the studies; ``shown(StudyView)`` after a study is drawn."""

    errorOccurred = Signal(str)
    statusMessage = Signal(str)
    openRun = Signal(Path)
    shown = Signal(object)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.workers = WorkerPool(self)
        self.state = StudyState()
        self._fit_pending = False   # the table's height follows its rows once the panel is visible
        self._polling = False       # a live study is being read in a worker
        self._expected: Path | None = None   # the folder of a study started here, until it is listed
        self.process = StudyProcess(self)
        self._build()
        self._subscribe()
        self.process.output.connect(self.log.append_text)
        self.process.ended.connect(self._process_ended)
        self.poll_timer = QTimer(self)
        self.poll_timer.setInterval(LIVE_POLL_MS)
        self.poll_timer.timeout.connect(self.poll)
        self.poll_timer.start()

    def _build(self) -> None:
        self.study_combo = QComboBox()
        self.study_combo.setMinimumWidth(220)
        self.study_combo.activated.connect(lambda _: self.load(self.study_combo.currentData()))
        self.test_set_combo = QComboBox()
        self.test_set_combo.setMinimumWidth(160)
        self.test_set_combo.currentTextChanged.connect(self.state.set_test_set)
        self.open_button = QPushButton("Open runs")
        self.open_button.setToolTip("Open the selected row's first finished seed in the Training tab")
        self.open_button.clicked.connect(lambda: self.open_run_of(self.state.selected_row))
        self.summary = wrap_anywhere(QLabel())
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = StudyTable()
        self.table.itemSelectionChanged.connect(lambda: self.state.select_row(self.table.selected_row_name()))
        self.table.cellDoubleClicked.connect(lambda row, _: self.open_run_of(self.table.row_name(row)))
        self.forest = ForestPlotWidget()
        self.message = wrap_anywhere(QLabel())   # messages name files
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(widget_of(vbox(QLabel("<b>Paired per-query ΔAP against the reference row</b>"),
                                               (self.forest, 1), QLabel(LEGEND))))
        self.splitter.setSizes([220, 520])
        self.runs_page = StudyRunsPage()
        self.runs_page.collectRequested.connect(self.collect)
        self.runs_page.stopRequested.connect(self.stop_study)
        self.runs_page.runOpened.connect(self.open_run_of)
        self.pages = QStackedWidget()
        self.pages.addWidget(widget_of(vbox(self.summary, (self.splitter, 1))))
        self.pages.addWidget(self.message)
        self.pages.addWidget(self.runs_page)
        self.banner = ErrorBanner()
        never_widen(self.banner.label)
        self.new_button = QPushButton("New study…")
        self.new_button.setCheckable(True)
        self.new_button.setToolTip("Show the form that starts a study (or continues one with more seeds)")
        self.launch_form = StudyLaunchForm()
        self.launch_form.startRequested.connect(self.start_study)
        self.launch_form.invalid.connect(self._report_error)
        self.launch_form.setMaximumWidth(LAUNCH_FORM_MAX_PX)
        self.launch_box = widget_of(hbox(self.launch_form, STRETCH))   # a form, not a banner across the window
        self.launch_box.hide()
        self.new_button.toggled.connect(self.launch_box.setVisible)
        self.log = LogView(max_lines=2000, placeholder="Output of the scing study process started here.")
        self.log.hide()
        body = QSplitter(Qt.Orientation.Vertical)
        body.addWidget(self.pages)
        body.addWidget(self.log)
        body.setStretchFactor(0, 4)
        body.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addLayout(hbox(QLabel("Study"), self.study_combo, 12, QLabel("Test set"), self.test_set_combo, 12,
                              self.open_button, STRETCH, self.new_button))
        layout.addWidget(self.launch_box)
        layout.addWidget(body, 1)

    def _subscribe(self) -> None:
        """The state emits, the widgets draw."""
        state = self.state
        state.reset.connect(self._draw_all)
        state.studies_changed.connect(self._draw_studies)
        state.study_changed.connect(self._draw_study)
        state.shown_changed.connect(self._draw_shown)
        state.can_open_changed.connect(lambda allowed: self.open_button.setEnabled(allowed))
        state.loaded.connect(lambda view: self.statusMessage.emit(f"study {view.title}: {len(view.rows)} rows"))
        state.error_reported.connect(lambda message: self.errorOccurred.emit(message))
        self._draw_all()

    @property
    def has_studies(self) -> bool:
        return bool(self.state.studies)

    # -- the window's panel protocol (app/panels/registry.py) -------------------------------------------
    def workspace_changed(self, path, rows) -> None:
        self.set_workspace(path)

    def screenshot_wanted(self) -> bool:
        return self.has_studies

    def screenshot_start(self, runs):
        return None   # the study loads on its own

    def set_workspace(self, path) -> None:
        """List the workspace's studies and load the one shown before (when it is still there) or the first."""
        studies = core_client.list_studies(path)
        self._read(self.state.set_workspace(path, studies))
        self.launch_form.set_workspace(path, studies)
        if not studies and not self.new_button.isChecked():
            self.new_button.setChecked(True)   # nothing to show: offer to start one

    def load(self, study_dir) -> None:
        """Read ``study_dir``'s study.json (or, without one, its runs' states) in a worker; the view is
        cleared until it arrives."""
        self._read(self.state.load(study_dir))

    def _read(self, load) -> None:
        if load is not None:
            ticket, folder = load
            self.workers.start(core_client.open_study, folder,
                               on_result=lambda view: self.state.show_loaded(ticket, view),
                               on_error=lambda message: self.state.show_failure(ticket, message))

    # -- drawing the state -----------------------------------------------------------------------------
    def _draw_all(self) -> None:
        self._draw_studies(self.state.studies)
        self._draw_shown(self.state.shown)
        self.open_button.setEnabled(self.state.can_open)

    def _draw_studies(self, studies) -> None:
        self.study_combo.clear()
        for folder in studies:
            self.study_combo.addItem(folder.name, folder)
            self.study_combo.setItemData(self.study_combo.count() - 1, str(folder), Qt.ItemDataRole.ToolTipRole)
        self._draw_study(self.state.study)

    def _draw_study(self, study) -> None:
        combo = self.study_combo   # compared by value: the folder may be another Path object than the item's
        index = next((i for i in range(combo.count()) if study is not None and combo.itemData(i) == study), -1)
        if index >= 0:
            self.study_combo.setCurrentIndex(index)

    def _draw_shown(self, shown) -> None:
        """A message in place of the table and the plot ('loading…', an error, no studies), the study's
        runs while it has no statistics, or the study."""
        self._draw_test_sets(shown)
        self._draw_controls()
        if isinstance(shown, LiveStudy):
            self.table.setRowCount(0)
            self.runs_page.show_live(shown)
            self.pages.setCurrentWidget(self.runs_page)
            return
        if isinstance(shown, Placeholder):
            self.table.setRowCount(0)
            self.forest.show_message("")
            self.summary.setText("")
            self.message.setTextFormat(Qt.TextFormat.PlainText if shown.error else Qt.TextFormat.RichText)
            self.message.setText(shown.text)
            self.message.setStyleSheet(MESSAGE_STYLES["error" if shown.error else "note"])
            self.pages.setCurrentWidget(self.message)
            return
        view, test_set = shown.view, shown.test_set
        self.summary.setText(view.summary(test_set))
        self.table.show_rows(view.table_rows(test_set))
        self.forest.show_entries(view.forest_entries(test_set), view.forest_axis_label())
        self.pages.setCurrentIndex(0)
        self._fit_pending = True
        QTimer.singleShot(0, self._fit_table_height)   # once the page is laid out
        self.shown.emit(view)

    def _draw_test_sets(self, shown) -> None:
        names = [] if isinstance(shown, (Placeholder, LiveStudy)) else shown.view.test_sets
        combo = self.test_set_combo
        combo.blockSignals(True)   # drawing the state is no choice by hand
        if [combo.itemText(i) for i in range(combo.count())] != names:
            combo.clear()
            combo.addItems(names)
        if names:
            combo.setCurrentIndex(max(0, combo.findText(shown.test_set)))
        combo.setEnabled(bool(names))   # a study without statistics has no test sets yet
        combo.blockSignals(False)

    def _fit_table_height(self) -> None:
        """Give the table the height of its rows (at most half the panel); the forest plot the rest."""
        total = sum(self.splitter.sizes())
        if not self._fit_pending or not self.isVisible() or total <= 0:
            return   # a hidden tab: showEvent fits it
        self._fit_pending = False
        rows = sum(self.table.rowHeight(r) for r in range(self.table.rowCount()))
        header = self.table.horizontalHeader()
        wanted = max(header.height(), header.sizeHint().height()) + rows + 2 * self.table.frameWidth() + 2
        wanted = min(wanted, total // 2)
        self.splitter.setSizes([wanted, total - wanted])

    def showEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().showEvent(event)
        QTimer.singleShot(0, self._fit_table_height)

    # -- starting, following and collecting studies -------------------------------------------------------
    def start_study(self, request) -> None:
        """Start ``scing study`` for a :class:`app.state.study_live.StudyRequest` as a child process; its study
        is shown (its runs' live states) as soon as its folder exists."""
        if self.process.running:
            self._report_error(f"a {self.process.kind} process of this panel still runs; wait for it or stop it")
            return
        self.banner.hide()
        self.log.set_text("")
        self.log.show()
        self.process.start(core_client.study_command(request), STUDY, request.folder)
        self._expected = request.folder
        where = request.launcher.kind if request.launcher is not None else "inline"
        self.statusMessage.emit(f"study {request.folder.name}: started ({where} launcher)")
        self.new_button.setChecked(False)
        self._draw_controls()
        self.poll()

    def stop_study(self) -> None:
        if self.process.study_running:
            self.process.stop()
            self.statusMessage.emit("stopping the study after its current training step…")

    def collect(self) -> None:
        """Every run is done: write study.json (``scing study --status DIR --collect``), then show the statistics."""
        folder = self.state.study
        if folder is None or self.process.running or not self.state.can_collect:
            return
        self.log.show()
        self.process.start(core_client.collect_study_command(folder), COLLECT, folder)
        self.statusMessage.emit(f"collecting {folder.name}…")
        self._draw_controls()

    def poll(self) -> None:
        """On a timer: list a study started here once its folder exists; read the study shown again while
        its runs may change (in a worker; one read at a time)."""
        if self._expected is not None:
            self._look_for_started_study()
        if self._polling or not self.state.wants_polling(self.process.folder if self.process.running else None):
            return
        refresh = self.state.refresh()
        if refresh is None:
            return
        ticket, folder = refresh
        self._polling = True
        self.workers.start(core_client.open_study, folder,
                           on_result=lambda shown: self.state.show_loaded(ticket, shown),
                           on_error=lambda message: self.statusMessage.emit(f"study {folder.name}: {message}"),
                           on_finished=self._poll_finished)

    def _poll_finished(self) -> None:
        self._polling = False

    def _look_for_started_study(self) -> None:
        if self.state.workspace is None or self._expected.parent.parent != self.state.workspace:
            self._expected = None   # another workspace is shown now
            return
        studies = core_client.list_studies(self.state.workspace)
        if self._expected not in studies:
            return
        self.state.update_studies(studies)
        self.launch_form.set_workspace(self.state.workspace, studies)
        if self.state.study != self._expected:
            self.load(self._expected)
        self._expected = None

    def _process_ended(self, kind: str, folder, code: int, reason: str) -> None:
        name = folder.name if folder is not None else "?"
        if kind == COLLECT:
            if code == 0:
                self.statusMessage.emit(f"study {name}: collected (study.json)")
            else:
                self._report_error(f"study {name} not collected: {reason or f'exit code {code}'}")
        elif code == 0:
            self.statusMessage.emit(f"study {name}: the scing study process ended (submitted, or done)")
        elif code == STOPPED_EXIT:
            self.statusMessage.emit(f"study {name} stopped; Continue study resumes it")
        else:
            self._report_error(f"study {name} failed: {reason or f'exit code {code}'}")
        if self.state.workspace is not None:   # its folder may be new, its study.json written
            studies = core_client.list_studies(self.state.workspace)
            self.state.update_studies(studies)
            self.launch_form.set_workspace(self.state.workspace, studies)
            if self._expected in studies:
                self.load(self._expected)
            elif self.state.study == folder:
                self._read(self.state.refresh())
        self._expected = None
        self._draw_controls()

    def _draw_controls(self) -> None:
        busy = self.process.running
        self.launch_form.start_button.setEnabled(not busy)
        self.runs_page.draw_controls(self.state.can_collect, self.process.study_running, busy)

    def _report_error(self, message: str) -> None:
        self.banner.show_error(message)
        self.errorOccurred.emit(message)

    def running_jobs(self) -> list:
        """The ``scing study`` process of this panel while it runs (the window asks before closing)."""
        return [self.process] if self.process.study_running else []

    def shutdown(self) -> None:
        """Window closing: a running study stops after its current step (its runs keep their checkpoints)."""
        self.poll_timer.stop()
        self.process.stop()
        self.process.wait(15000)

    # -- opening runs ----------------------------------------------------------------------------------
    def open_run_of(self, row_name: str | None) -> None:
        """Emit ``openRun`` with the run directory of the row's first finished seed, or of the run named in a
        study without statistics yet (or say there is none)."""
        run_dir = self.state.run_dir_of(row_name)
        if run_dir is None:
            self.statusMessage.emit(f"row {row_name or '?'} has no finished seed to open yet")
            return
        self.openRun.emit(run_dir)
