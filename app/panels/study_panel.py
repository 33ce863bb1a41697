"""Study (``scing study``): a plan's rows trained with several seeds, and how sure their differences are.

Pick one of the workspace's studies and a test set: the table gives every row's mAP and R1 as mean
[95 % t interval] over seeds, the forest plot the paired per-query ΔAP of every row against the
reference row (bootstrap interval over seeds × queries, each seed's ΔAP as a dot), and the line above
them the plan, its seeds and the sign tests. study.json is read in a worker; double-clicking a row (or
"Open runs") opens that row's first finished seed in the Training tab (``openRun``).

The panel's model is :class:`app.state.study.StudyState` (``self.state``): the studies, the one shown, its
test set and the row selected; the widgets write to it and draw what it emits.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer, Qt, Signal
from PySide6.QtWidgets import QComboBox, QLabel, QPushButton, QSplitter, QStackedWidget, QVBoxLayout, QWidget

from app.services import core_client
from app.services.workers import WorkerPool
from app.state.evented import Placeholder
from app.state.study import NO_STUDIES, StudyState
from app.widgets.forest_plot import BAR_COLOR, MEAN_COLOR, SEED_COLOR, ForestPlotWidget
from app.widgets.layout import STRETCH, hbox, vbox, widget_of
from app.widgets.study_table import StudyTable

__all__ = ["NO_STUDIES", "StudyPanel"]

MESSAGE_STYLES = {"note": "color: #666; font-size: 11pt;", "error": "color: #8A1C12; font-size: 11pt;"}
LEGEND = (f"<span style='color:{BAR_COLOR}'>━━</span> 95 % interval (bootstrap over seeds × queries) &nbsp; "
          f"<span style='color:{MEAN_COLOR}'>◆</span> mean ΔAP &nbsp; "
          f"<span style='color:{SEED_COLOR}'>●</span> one seed &nbsp; <span style='color:#777'>┆</span> no difference"
          " &nbsp;·&nbsp; right of 0: better than the reference")


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
        self._build()
        self._subscribe()

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
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = StudyTable()
        self.table.itemSelectionChanged.connect(lambda: self.state.select_row(self.table.selected_row_name()))
        self.table.cellDoubleClicked.connect(lambda row, _: self.open_run_of(self.table.row_name(row)))
        self.forest = ForestPlotWidget()
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(widget_of(vbox(QLabel("<b>Paired per-query ΔAP against the reference row</b>"),
                                               (self.forest, 1), QLabel(LEGEND))))
        self.splitter.setSizes([220, 520])
        self.pages = QStackedWidget()
        self.pages.addWidget(widget_of(vbox(self.summary, (self.splitter, 1))))
        self.pages.addWidget(self.message)
        layout = QVBoxLayout(self)
        layout.addLayout(hbox(QLabel("Study"), self.study_combo, 12, QLabel("Test set"), self.test_set_combo, 12,
                              self.open_button, STRETCH))
        layout.addWidget(self.pages, 1)

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
        self._read(self.state.set_workspace(path, core_client.list_studies(path)))

    def load(self, study_dir) -> None:
        """Read ``study_dir``'s study.json in a worker; the view is cleared until it arrives."""
        self._read(self.state.load(study_dir))

    def _read(self, load) -> None:
        if load is not None:
            ticket, folder = load
            self.workers.start(core_client.load_study, folder,
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
        index = self.study_combo.findData(study) if study is not None else -1
        if index >= 0:
            self.study_combo.setCurrentIndex(index)

    def _draw_shown(self, shown) -> None:
        """A message in place of the table and the plot ('loading…', an error, no studies), or the study."""
        self._draw_test_sets(shown)
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
        names = [] if isinstance(shown, Placeholder) else shown.view.test_sets
        combo = self.test_set_combo
        combo.blockSignals(True)   # drawing the state is no choice by hand
        if [combo.itemText(i) for i in range(combo.count())] != names:
            combo.clear()
            combo.addItems(names)
        if names:
            combo.setCurrentIndex(max(0, combo.findText(shown.test_set)))
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

    # -- opening runs ----------------------------------------------------------------------------------
    def open_run_of(self, row_name: str | None) -> None:
        """Emit ``openRun`` with the run directory of the row's first finished seed (or say there is none)."""
        run_dir = self.state.run_dir_of(row_name)
        if run_dir is None:
            self.statusMessage.emit(f"row {row_name or '?'} has no finished seed to open yet")
            return
        self.openRun.emit(run_dir)
