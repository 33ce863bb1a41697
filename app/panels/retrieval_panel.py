"""Retrieval browser: per-query results of a run's eval folder, worst queries first.

The query list (AP, first-hit rank) sorts by AP and filters to rank-1 failures; the selected query
shows its image and its top-k gallery strip: green = same identity, red = different identity,
grey hatched = junk (same identity and camera, ignored by the Market-1501 protocol), with the
distance under each. Eval artefacts load in a worker (``api.load_eval``).
"""

from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QFileDialog, QHeaderView, QLabel, QPushButton,
                               QSpinBox, QSplitter, QStackedWidget, QTableView, QVBoxLayout, QWidget)

from app.services import core_client
from app.services.workers import WorkerPool
from app.panels.retrieval_comparison import RunComparisonMixin
from app.state.retrieval import RetrievalState, distance_formatter
from app.widgets.error_banner import ErrorBanner
from app.widgets.image_strip import ImageStripWidget, TileSpec, legend_html
from app.widgets.images import load_pixmap
from app.widgets.layout import STRETCH, hbox, vbox, widget_of
from app.widgets.plotting import PALETTE, make_plot, pen
from app.widgets.query_table import SORT_FOR_COLUMN, QueryTableModel

COLUMN_WIDTHS = {0: 44, 2: 44, 3: 40, 4: 56, 5: 56, 6: 56}   # query-table columns other than the (stretching) name
THUMB = QSize(72, 144)
QUERY_SIZE = QSize(100, 200)


def load_retrieval_state(run_dir, dataset: str) -> RetrievalState:
    """Eval artefacts -> view-model, both in the worker (large query sets stay off the GUI thread)."""
    return RetrievalState.from_artifacts(core_client.load_eval(run_dir, dataset))


class RetrievalPanel(RunComparisonMixin, QWidget):
    errorOccurred = Signal(str)
    statusMessage = Signal(str)
    imagesForSaliency = Signal(list)   # [query path, top gallery paths…] sent to the Saliency panel
    evalLoaded = Signal(object)        # the RetrievalState of the eval folder just loaded

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.state: RetrievalState | None = None
        self.run_paths: list[Path] = []
        self.workers = WorkerPool(self)
        self._token = 0
        self._sort_toggle: dict[int, bool] = {}
        self._build()

    def _build(self) -> None:
        self.banner = ErrorBanner()
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self._build_query_list())
        splitter.addWidget(self._build_detail())
        splitter.setSizes([500, 900])
        self.empty_state = QLabel()
        self.empty_state.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_state.setWordWrap(True)
        self.empty_state.setStyleSheet("color: #666; font-size: 12pt;")
        self.pages = QStackedWidget()
        self.pages.addWidget(splitter)
        self.pages.addWidget(self.empty_state)
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addLayout(self._build_header())
        layout.addWidget(self.pages, 1)

    def _build_header(self):
        self.run_combo = QComboBox()
        self.run_combo.setMinimumWidth(180)
        self.run_combo.currentIndexChanged.connect(self._run_changed)
        self.eval_combo = QComboBox()
        self.eval_combo.setMinimumWidth(140)
        self.eval_combo.currentIndexChanged.connect(self._eval_changed)
        self.compare_combo = self._build_compare_combo()
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        return hbox(QLabel("Run"), self.run_combo, QLabel("Eval"), self.eval_combo, QLabel("vs"), self.compare_combo,
                    12, (self.summary, 1))

    def _build_query_list(self) -> QWidget:
        self.failures_only = QCheckBox("Only rank-1 failures (first true match below rank 1)")
        self.failures_only.toggled.connect(self._filter_changed)
        self.model = QueryTableModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()   # fixed widths: ResizeToContents would visit every query
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for column, width in COLUMN_WIDTHS.items():
            self.table.setColumnWidth(column, width)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        header.sectionClicked.connect(self._header_clicked)
        self.table.selectionModel().selectionChanged.connect(self._query_selected)
        self.count_label = QLabel("")
        return widget_of(vbox(QLabel("<b>Queries</b> — worst AP first (click a header to re-sort)"), self.failures_only,
                              (self.table, 1), self.count_label))

    def _build_query_view(self):
        self.query_image = QLabel()
        self.query_image.setFixedSize(QUERY_SIZE.width() + 8, QUERY_SIZE.height() + 8)
        self.query_image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.query_image.setStyleSheet("border: 4px solid #1F5FBF; background: #F4F4F4;")
        self.query_info = QLabel("Select a query")
        self.query_info.setWordWrap(True)
        self.query_info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.query_info.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.k_spin = QSpinBox()
        self.k_spin.setRange(1, 100)
        self.k_spin.setValue(10)
        self.k_spin.setPrefix("top-")
        self.k_spin.valueChanged.connect(self._show_selected)
        self.send_button = QPushButton("Compare saliency of query + top-3 →")
        self.send_button.setToolTip("Send the query and its three nearest gallery images to the Saliency tab")
        self.send_button.clicked.connect(self._send_to_saliency)
        self.send_button.setEnabled(False)
        self.export_button = QPushButton("Export ranking…")
        self.export_button.setToolTip("This query's top-k as a paper figure (PNG + PDF), like `scing ranking`")
        self.export_button.clicked.connect(self._export_clicked)
        self.export_button.setEnabled(False)
        controls = hbox(self.k_spin, self.send_button, self.export_button, STRETCH)
        return hbox(self.query_image, (vbox((self.query_info, 1), controls), 1))

    def _build_detail(self) -> QWidget:
        self.strip = ImageStripWidget(THUMB, empty_text="Select a query to see its ranked gallery.")
        self.matches = ImageStripWidget(THUMB, empty_text="No gallery image of this identity from another camera.")
        self.matches_title = QLabel("<b>True matches</b> of the query's identity")
        self.matches_title.setWordWrap(True)
        self.cmc_plot = make_plot("CMC", "rank", "matching rate %", legend=False)
        self.cmc_plot.setFixedWidth(360)
        bottom = hbox((vbox(self.matches_title, self.matches, STRETCH), 1), self.cmc_plot)
        ranked_title = QLabel("<b>Ranked gallery</b> (rank in the corner; cosine distance, identity and camera under each)")
        return widget_of(vbox(self._build_query_view(), ranked_title, self.strip, QLabel(legend_html()), (bottom, 1)))

    # -- runs and eval folders -----------------------------------------------------------------------
    def set_runs(self, rows) -> None:
        """Runs that have eval folders go in the run picker. A rescan that changes nothing for the run
        being browsed keeps the loaded eval and the selected query."""
        current = self.current_run()
        paths = [row.path for row in rows if core_client.eval_folders(row.path)]
        if paths == self.run_paths and current in paths and self.state is not None:
            return
        self.run_paths = paths
        self.run_combo.blockSignals(True)
        self.run_combo.clear()
        for path in self.run_paths:
            self.run_combo.addItem(path.name, str(path))
        if current in self.run_paths:
            self.run_combo.setCurrentIndex(self.run_paths.index(current))
        self.run_combo.blockSignals(False)
        if not self.run_paths:
            self._clear("No run in this workspace has eval artefacts yet.\n\nThey appear when a run completes "
                        "(or after `scing eval --run-dir RUN`); the Training tab shows the runs in progress.")
            return
        if self.current_run() != current or self.state is None:
            self._run_changed()

    def select_run(self, path) -> bool:
        """Browse the run at ``path`` (False when it has no eval artefacts)."""
        index = self.run_combo.findData(str(path))
        if index >= 0:
            self.run_combo.setCurrentIndex(index)
        return index >= 0

    def current_run(self) -> Path | None:
        data = self.run_combo.currentData()
        return Path(data) if data else None

    def _run_changed(self, *_) -> None:
        run = self.current_run()
        folders = core_client.eval_folders(run) if run else []
        current = self.eval_combo.currentText()
        self.eval_combo.blockSignals(True)
        self.eval_combo.clear()
        self.eval_combo.addItems(folders)
        if current in folders:
            self.eval_combo.setCurrentText(current)
        self.eval_combo.blockSignals(False)
        self._eval_changed()

    def _eval_changed(self, *_) -> None:
        run, dataset = self.current_run(), self.eval_combo.currentText()
        if run is None or not dataset:
            return
        self._token += 1
        token = self._token
        self.summary.setText(f"loading {run.name} / {dataset}…")
        self.workers.start(load_retrieval_state, run, dataset,
                           on_result=lambda state: self._eval_loaded(token, state),
                           on_error=self._report_error)

    def _eval_loaded(self, token: int, state: RetrievalState) -> None:
        if token != self._token:
            return
        previous = self.state
        self.state = state
        self.pages.setCurrentIndex(0)
        self.state.set_only_failures(self.failures_only.isChecked())
        if previous is not None:
            self.state.set_sort(previous.sort_key)
        self._describe()
        self._draw_cmc()
        self.model.set_state(self.state)
        self._update_count()
        if self.model.rowCount():
            self.table.selectRow(0)
        else:
            self._show_selected()
        self._update_compare_choices()   # after the model holds the new state: a comparison refreshes it
        self.evalLoaded.emit(self.state)

    def _draw_cmc(self) -> None:
        item = self.cmc_plot.getPlotItem()
        item.clear()
        cmc = self.state.cmc if self.state is not None else []
        if cmc:
            ranks = list(range(1, len(cmc) + 1))
            item.plot(ranks, [100 * v for v in cmc], pen=pen(0, 2.0), symbol="o", symbolSize=4,
                      symbolBrush=PALETTE[0], symbolPen=None)
            item.setYRange(0, 100, padding=0.02)
            item.setTitle(f"<span style='font-size:10pt'>CMC · R1 {100 * cmc[0]:.1f}%</span>")

    # -- query list ----------------------------------------------------------------------------------
    def _filter_changed(self, enabled: bool) -> None:
        if self.state is None:
            return
        self.state.set_only_failures(enabled)
        self.model.refresh()
        self._update_count()
        if self.model.rowCount():
            self.table.selectRow(0)

    def _header_clicked(self, section: int) -> None:
        if self.state is None or section not in SORT_FOR_COLUMN:
            return
        flipped = self._sort_toggle.get(section, False)
        self.state.set_sort(SORT_FOR_COLUMN[section][1 if flipped else 0])
        self._sort_toggle[section] = not flipped
        self.model.refresh()
        self._reselect()

    def _reselect(self) -> None:
        if self.state is None or self.state.selected is None:
            return
        for r, row in enumerate(self.model.rows):
            if row.index == self.state.selected:
                self.table.selectRow(r)
                return

    def _update_count(self) -> None:
        if self.state is not None:
            s = self.state.summary()
            self.count_label.setText(f"{self.model.rowCount()} of {s['num_query']} queries shown · "
                                     f"{s['num_failures']} rank-1 failures")

    def _query_selected(self, *_) -> None:
        rows = self.table.selectionModel().selectedRows()
        if self.state is None or not rows:
            return
        self.state.select(self.model.rows[rows[0].row()].index)
        self._show_selected()

    def _show_selected(self, *_) -> None:
        row = self.state.selected_row if self.state is not None else None
        self.send_button.setEnabled(row is not None)
        self.export_button.setEnabled(row is not None)
        if row is None:
            self.query_image.clear()
            self.query_info.setText("Select a query")
            self.strip.set_tiles([])
            self.matches.set_tiles([])
            return
        self.query_image.setPixmap(load_pixmap(row.path, QUERY_SIZE))
        hits = self.state.hits(row.index, self.k_spin.value())
        ap = "— (no true match in the gallery; skipped)" if not row.evaluated else f"{100 * row.ap:.1f} %"
        first = "—" if row.first_hit < 0 else f"rank {row.first_hit + 1} (junk excluded)"
        counts = {kind: sum(h.kind == kind for h in hits) for kind in ("same", "different", "junk")}
        delta = self.state.delta(row.index)
        versus = "" if math.isnan(delta) else (f" · vs {self.state.reference_name}: AP "
                                               f"{100 * self.state.reference_ap[row.index]:.1f} % ({100 * delta:+.1f})")
        self.query_info.setText(
            f"<b>Query {row.index}</b> · {row.name}<br>identity <b>{row.pid}</b> · camera {row.camid}<br>"
            f"AP <b>{ap}</b>{versus} · first true match: <b>{first}</b><br>"
            f"in the top-{len(hits)}: {counts['same']} same id, {counts['different']} different, {counts['junk']} junk"
            f"<br><span style='color:#777'>{row.path}</span>")
        fmt = distance_formatter([h.distance for h in hits])
        self.strip.set_tiles([TileSpec(h.path, h.kind, f"{fmt(h.distance)}\nid {h.pid} · c{h.camid}", str(h.rank),
                                       f"rank {h.rank} · {h.kind} · distance {h.distance:.6g}\n{h.path}")
                              for h in hits])
        matches = self.state.true_matches(row.index)
        self.matches_title.setText(f"<b>True matches</b> of identity {row.pid} (other cameras) and their position in "
                                   f"the ranked list above (junk included; '&gt;{self.state.topk}' = beyond the stored "
                                   f"top-{self.state.topk})")
        self.matches.set_tiles([TileSpec(m.path, "same", f"{fmt(m.distance)}\ncam {m.camid}",
                                         str(m.rank) if m.rank else f">{self.state.topk}", m.path) for m in matches])

    def _send_to_saliency(self) -> None:
        row = self.state.selected_row if self.state is not None else None
        if row is not None:
            gallery = [h.path for h in self.state.hits(row.index, 3)]
            self.imagesForSaliency.emit([row.path, *gallery])

    def _export_clicked(self) -> None:
        row = self.state.selected_row if self.state is not None else None
        if row is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export ranking figure", f"ranking_q{row.index}.png", "PNG (*.png)")
        if path:
            self.export_ranking(path)

    def export_ranking(self, out_path):
        """Write the selected query's top-k figure in a worker; returns the worker (None without a query)."""
        row = self.state.selected_row if self.state is not None else None
        if row is None:
            return None
        k = min(self.k_spin.value(), self.state.topk)
        return self.workers.start(core_client.export_ranking_figure, self.current_run(), self.eval_combo.currentText(),
                                  [row.index], k, out_path,
                                  on_result=lambda p: self.statusMessage.emit(f"ranking figure written: {p}"),
                                  on_error=self._report_error)

    def _clear(self, message: str) -> None:
        self.empty_state.setText(message)
        self.pages.setCurrentWidget(self.empty_state)
        self.state = None
        self.model.set_state(None)
        self.summary.setText("")
        self.eval_combo.clear()
        self.compare_combo.clear()
        self.count_label.setText("")
        self._draw_cmc()
        self._show_selected()

    def _report_error(self, message: str) -> None:
        self.banner.show_error(message)
        self.errorOccurred.emit(message)
