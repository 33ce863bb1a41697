"""Study (``scing study``): a plan's rows trained with several seeds, and how sure their differences are.

Pick one of the workspace's studies and a test set: the table gives every row's mAP and R1 as mean
[95 % t interval] over seeds, the forest plot the paired per-query ΔAP of every row against the
reference row (bootstrap interval over seeds × queries, each seed's ΔAP as a dot), and the line above
them the plan, its seeds and the sign tests. study.json is read in a worker; double-clicking a row (or
"Open runs") opens that row's first finished seed in the Training tab (``openRun``).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer, Qt, Signal
from PySide6.QtWidgets import QComboBox, QLabel, QPushButton, QSplitter, QStackedWidget, QVBoxLayout, QWidget

from app.services import core_client
from app.services.workers import WorkerPool
from app.state.study import StudyView
from app.widgets.forest_plot import BAR_COLOR, MEAN_COLOR, SEED_COLOR, ForestPlotWidget
from app.widgets.layout import STRETCH, hbox, vbox, widget_of
from app.widgets.study_table import StudyTable

NO_STUDIES = ("No studies in this workspace. <code>scing study --plan study/table3-synthped --workspace WORKSPACE"
              "</code> trains one (docs/studies.md); its folder <code>studies/&lt;plan&gt;/</code> then appears here.")
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
        self.view: StudyView | None = None
        self._token = 0   # the latest load; results of older ones are dropped
        self._test_set = ""   # the test set drawn last: kept when the study reloads
        self._fit_pending = False   # the table's height follows its rows once the panel is visible
        self._build()
        self.show_message(NO_STUDIES)

    def _build(self) -> None:
        self.study_combo = QComboBox()
        self.study_combo.setMinimumWidth(220)
        self.study_combo.activated.connect(lambda _: self.load(self.study_combo.currentData()))
        self.test_set_combo = QComboBox()
        self.test_set_combo.setMinimumWidth(160)
        self.test_set_combo.currentIndexChanged.connect(lambda _: self._draw())
        self.open_button = QPushButton("Open runs")
        self.open_button.setToolTip("Open the selected row's first finished seed in the Training tab")
        self.open_button.clicked.connect(lambda: self.open_run_of(self.table.selected_row_name()))
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = StudyTable()
        self.table.itemSelectionChanged.connect(self._update_open_button)
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

    @property
    def has_studies(self) -> bool:
        return self.study_combo.count() > 0

    # -- what is shown ---------------------------------------------------------------------------------
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
        previous = self.study_combo.currentData()
        self.study_combo.clear()
        for folder in studies:
            self.study_combo.addItem(folder.name, folder)
            self.study_combo.setItemData(self.study_combo.count() - 1, str(folder), Qt.ItemDataRole.ToolTipRole)
        if not studies:
            self._token += 1   # a load still running for the previous workspace is dropped
            self.show_message(NO_STUDIES)
            return
        index = studies.index(previous) if previous in studies else 0
        self.study_combo.setCurrentIndex(index)
        self.load(studies[index])

    def load(self, study_dir) -> None:
        """Read ``study_dir``'s study.json in a worker; the view is cleared until it arrives."""
        self._token += 1
        token = self._token
        self.show_message(f"loading {Path(study_dir).name}…")
        self.workers.start(core_client.load_study, study_dir, on_result=lambda view: self._loaded(token, view),
                           on_error=lambda message: self._failed(token, message))

    def show_message(self, text: str, kind: str = "note") -> None:
        """Empty the table and the plot and show ``text`` in their place."""
        self.view = None
        self.test_set_combo.blockSignals(True)
        self.test_set_combo.clear()
        self.test_set_combo.blockSignals(False)
        self.table.setRowCount(0)
        self.forest.show_message("")
        self.summary.setText("")
        self.message.setTextFormat(Qt.TextFormat.PlainText if kind == "error" else Qt.TextFormat.RichText)
        self.message.setText(text)
        self.message.setStyleSheet(MESSAGE_STYLES[kind])
        self.pages.setCurrentWidget(self.message)
        self._update_open_button()

    def _loaded(self, token: int, view: StudyView) -> None:
        if token != self._token:
            return
        self.view = view
        self.test_set_combo.blockSignals(True)
        self.test_set_combo.addItems(view.test_sets)
        self.test_set_combo.setCurrentIndex(max(0, self.test_set_combo.findText(self._test_set)))
        self.test_set_combo.blockSignals(False)
        self._draw()
        self.statusMessage.emit(f"study {view.title}: {len(view.rows)} rows")

    def _failed(self, token: int, message: str) -> None:
        if token != self._token:
            return
        self.show_message(message, kind="error")
        self.errorOccurred.emit(message)

    def _draw(self) -> None:
        if self.view is None:
            return
        test_set = self._test_set = self.test_set_combo.currentText()
        self.summary.setText(self.view.summary(test_set))
        self.table.show_rows(self.view.table_rows(test_set))
        self.forest.show_entries(self.view.forest_entries(test_set), self.view.forest_axis_label())
        self.pages.setCurrentIndex(0)
        self._fit_pending = True
        QTimer.singleShot(0, self._fit_table_height)   # once the page is laid out
        self._update_open_button()
        self.shown.emit(self.view)

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
    def _update_open_button(self) -> None:
        self.open_button.setEnabled(self.view is not None and self.table.selected_row_name() is not None)

    def open_run_of(self, row_name: str | None) -> None:
        """Emit ``openRun`` with the run directory of the row's first finished seed (or say there is none)."""
        run_dir = self.view.run_dir(row_name) if self.view is not None and row_name else None
        if run_dir is None:
            self.statusMessage.emit(f"row {row_name or '?'} has no finished seed to open yet")
            return
        self.openRun.emit(run_dir)
