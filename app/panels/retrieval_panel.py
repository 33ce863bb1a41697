"""Retrieval browser: per-query results of a run's eval folder, worst queries first.

The query list (AP, first-hit rank) sorts by a header click (Qt's sort indicator shows the order)
and filters by text, identity, camera, AP range, rank-1 failures and ΔAP; the selected query shows
its image and its top-k gallery strip: green = same identity, red = different identity, grey hatched
= junk (same identity and camera, ignored by the Market-1501 protocol), with the distance under each.
With a run chosen under "vs", that run's ranked gallery for the same query sits right under this one,
column for column (:mod:`app.panels.retrieval_comparison`); a click on any tile offers to enlarge
it, make it the query or explain the pair in Saliency (:mod:`app.panels.retrieval_tiles`).
Above the list, saved views, export of the listed queries and tags (:mod:`app.panels.retrieval_query_views`);
the filter bar's "Attributes" part filters by occlusion, caption words, cameras, identities and tags.

What is shown lives in a Qt-free, evented :class:`app.state.retrieval_browser.RetrievalBrowser` (the
eval folder's :class:`app.state.retrieval.RetrievalState`, or why there is none): the panel, its mixins
and the query table write to it and subscribe to it, and draw only from its signals.

Eval artefacts load in a worker (``api.load_eval``); while they load, and when they cannot be read,
nothing of the previous selection stays on screen. Thumbnails decode off the GUI thread.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (QComboBox, QFileDialog, QFrame, QLabel, QPushButton, QScrollArea, QSizePolicy, QSpinBox,
                               QSplitter, QStackedWidget, QVBoxLayout, QWidget)

from app.panels.retrieval_comparison import RunComparisonMixin
from app.panels.retrieval_loading import LoadFailure, load_for_browsing
from app.panels.retrieval_query_list import QueryListMixin
from app.panels.retrieval_query_views import QueryViewsMixin
from app.panels.retrieval_tiles import GalleryTileActionsMixin
from app.services import core_client
from app.services.workers import WorkerPool
from app.state.names import breakable
from app.state.query_details import describe_query
from app.state.retrieval import RetrievalState
from app.state.retrieval_browser import RetrievalBrowser
from app.widgets.error_banner import ErrorBanner, wrap_anywhere
from app.widgets.image_strip import ImageStripWidget, ThumbnailTile, TileSpec, legend_html
from app.widgets.combos import RunCombo, refill_texts
from app.widgets.layout import STRETCH, hbox, vbox, widget_of
from app.widgets.plotting import PALETTE, make_plot, pen
from app.widgets.query_filter_bar import QueryFilterBar
from app.widgets.query_table import QueryTable

THUMB = QSize(64, 128)        # Market-1501 / SynthPed images are 64 x 128: shown at their own size
QUERY_SIZE = QSize(64, 128)


class RetrievalPanel(QueryListMixin, QueryViewsMixin, RunComparisonMixin, GalleryTileActionsMixin, QWidget):
    errorOccurred = Signal(str)
    statusMessage = Signal(str)
    imagesForSaliency = Signal(list)   # [query path, top gallery paths…] sent to the Saliency panel
    pairForSaliency = Signal(str, str)   # (query path, gallery path): explain the pair in the Saliency panel
    evalLoaded = Signal(object)        # the RetrievalState of the eval folder just loaded

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.browser = RetrievalBrowser()
        self.run_paths: list[Path] = []
        self.workers = WorkerPool(self)
        self._token = 0
        self.shown_dataset = ""   # the eval folder's dataset name (tags are kept by it)
        self._build()
        self._subscribe()

    @property
    def state(self) -> RetrievalState | None:
        """The eval shown (``browser.state``): write to it, the panel follows."""
        return self.browser.state

    def _subscribe(self) -> None:
        """The browser emits, the panel draws (the query table subscribes itself)."""
        b = self.browser
        for signal in (b.eval_changed, b.notice_changed):
            signal.connect(self._show_page)
            signal.connect(self._forget_error)
        for signal in (b.eval_changed, b.notice_changed, b.reference_changed):
            signal.connect(self._show_header)
        b.eval_changed.connect(self._draw_cmc)
        for signal in (b.eval_changed, b.selection_changed, b.reference_changed, b.k_changed):
            signal.connect(self._show_selected)
        b.k_changed.connect(self._show_k)
        self._subscribe_query_list()
        self._subscribe_query_views()

    def _build(self) -> None:
        self.banner = ErrorBanner()
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self._build_query_list())
        self.splitter.addWidget(self._build_detail())
        self.splitter.setSizes([560, 880])
        self.empty_state = QLabel()
        self.empty_state.setAlignment(Qt.AlignmentFlag.AlignCenter)
        wrap_anywhere(self.empty_state)   # a long path in "could not load" must not widen the window
        self.empty_state.setTextFormat(Qt.TextFormat.PlainText)
        self.empty_state.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.empty_state.setStyleSheet("color: #666; font-size: 12pt;")
        self.pages = QStackedWidget()
        self.pages.addWidget(self.splitter)
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
        RunCombo(self.run_combo)   # narrow; runs told apart by where their names differ
        RunCombo(self.compare_combo, alongside=self.run_combo)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        return hbox(QLabel("Run"), self.run_combo, QLabel("Eval"), self.eval_combo, QLabel("vs"), self.compare_combo,
                    12, (self.summary, 1))

    def _build_query_list(self) -> QWidget:
        self.filters = QueryFilterBar()
        self.filters.show_filter(self.browser.query_filter)
        self.filters.filterChanged.connect(self.browser.set_filter)
        self.failures_only = self.filters.failures_only
        self.table = QueryTable(self.browser, self.fontMetrics().height() + 8)
        self.model = self.table.query_model
        self.table.horizontalHeader().sectionClicked.connect(self._header_clicked)
        self.list_title = QLabel()
        self.count_label = QLabel("")
        self._show_sort()
        store_banner, views_bar, tag_box = self._build_query_views()
        return widget_of(vbox(store_banner, views_bar, self.list_title, self.filters, (self.table, 1), tag_box,
                              self.count_label))

    def _build_query_view(self):
        self.query_tile = ThumbnailTile(QUERY_SIZE, caption_lines=0)
        self.query_tile.setCursor(Qt.CursorShape.ArrowCursor)
        self.query_tile.follow_cache()
        self.query_info = QLabel("Select a query")
        self.query_info.setWordWrap(True)
        self.query_info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.query_info.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.k_spin = QSpinBox()
        self.k_spin.setRange(1, 100)
        self.k_spin.setValue(self.browser.k)
        self.k_spin.setPrefix("top-")
        self.k_spin.valueChanged.connect(self.browser.set_k)
        self.send_button = QPushButton("Compare saliency of query + top-3 →")
        self.send_button.setToolTip("Send the query and its three nearest gallery images to the Saliency tab "
                                    "(target: similarity to the query)")
        self.send_button.clicked.connect(self._send_to_saliency)
        self.send_button.setEnabled(False)
        self.export_button = QPushButton("Export ranking…")
        self.export_button.setToolTip("This query's top-k as a paper figure (PNG + PDF), like `scing ranking`")
        self.export_button.clicked.connect(self._export_clicked)
        self.export_button.setEnabled(False)
        self.cmc_plot = make_plot("CMC", "rank", "matching rate %", legend=False)
        self.cmc_plot.setMinimumHeight(QUERY_SIZE.height() + 14)
        self.cmc_plot.setFixedSize(300, QUERY_SIZE.height() + 14)
        controls = hbox(self.k_spin, self.send_button, self.export_button, STRETCH)
        return hbox(self.query_tile, (vbox((self.query_info, 1), controls), 1), self.cmc_plot)

    def _build_detail(self) -> QWidget:
        self.strip = self._new_strip("Select a query to see its ranked gallery.")
        self.matches = self._new_strip("No gallery image of this identity from another camera.")
        self.ranked_title = QLabel("<b>Ranked gallery</b>")
        self.ranked_title.setToolTip("Rank in the corner, junk left out as in '1st hit'; cosine distance, identity "
                                     "and camera under each tile")
        self.matches_title = QLabel("<b>True matches</b> of the query's identity")
        self.matches_title.setWordWrap(True)
        legend = QLabel(legend_html())
        legend.setToolTip("Click a tile to enlarge it, make it the query, or explain the query–gallery pair in Saliency")
        legend.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)   # never widens the detail
        content = widget_of(vbox(self._build_query_view(), hbox(self.ranked_title, 16, (legend, 1)), self.strip,
                                 self._build_versus(), self.matches_title, self.matches, STRETCH, margins=2))
        scroll = QScrollArea()   # the detail keeps its sizes on a small screen and scrolls instead
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(content)
        return scroll

    def _new_strip(self, empty_text: str) -> ImageStripWidget:
        strip = ImageStripWidget(THUMB, empty_text=empty_text)
        strip.tileClicked.connect(self._tile_clicked)
        return strip

    # -- the window's panel protocol (app/panels/registry.py) -------------------------------------------
    def workspace_changed(self, path, rows) -> None:
        self.open_query_stores(path)
        self.set_runs([row for row in rows if not row.damaged])

    def screenshot_wanted(self) -> bool:
        return True

    def screenshot_start(self, runs):
        def show():   # the proposed method's run, compared with CLIP-ReID (the side-by-side ranking)
            if runs.scing:
                self.select_run(runs.scing)
            if runs.baseline:
                self.prefer_comparison(runs.baseline)
        return show

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
            self._clear()
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
        refill_texts(self.eval_combo, list(folders), self.eval_combo.currentText())
        self._eval_changed()

    def _eval_changed(self, *_) -> None:
        run, dataset = self.current_run(), self.eval_combo.currentText()
        if run is None or not dataset:
            return
        self._token += 1
        self._compare_token += 1
        token = self._token
        self.browser.show_loading(run.name, dataset)
        self.workers.start(load_for_browsing, run, dataset, list(self.run_paths),
                           on_result=lambda result: self._eval_loaded(token, run, dataset, *result),
                           on_error=lambda message: self._eval_failed(token, run, dataset, message))

    def _eval_loaded(self, token: int, run: Path, dataset: str, loaded, comparable=None) -> None:
        if token != self._token:
            return
        if isinstance(loaded, LoadFailure):
            self._eval_failed(token, run, dataset, loaded.message)
            return
        self.shown_dataset = dataset
        self.browser.show_eval(loaded)
        self._update_compare_choices(comparable)   # loads the run compared with, if any
        self.evalLoaded.emit(loaded)

    def _eval_failed(self, token: int, run: Path, dataset: str, message: str) -> None:
        """The error in place of the data; nothing of the previous run stays clickable."""
        if token != self._token:
            return
        self.browser.show_failure(run.name, dataset, message)
        self.clear_compare_choices()   # nothing to compare: the runs listed were for the previous eval
        self.errorOccurred.emit(message)

    # -- drawing what the browser shows ----------------------------------------------------------------
    def _show_page(self, *_) -> None:
        """The eval's page, or the notice in its place (loading, could not load, nothing evaluated)."""
        if self.state is not None:
            self.pages.setCurrentWidget(self.splitter)
        elif self.browser.notice is not None:
            self.empty_state.setText(breakable(self.browser.notice.page))
            self.pages.setCurrentWidget(self.empty_state)

    def _show_header(self, *_) -> None:
        self.summary.setText(self.browser.header_text())

    def _forget_error(self, *_) -> None:
        self.banner.hide()

    def _show_k(self, k: int) -> None:
        self.k_spin.setValue(k)

    def _draw_cmc(self, *_) -> None:
        item = self.cmc_plot.getPlotItem()
        item.clear()
        cmc = self.state.cmc if self.state is not None else []
        item.setTitle(f"<span style='font-size:10pt'>CMC · R1 {100 * cmc[0]:.1f}%</span>" if cmc else
                      "<span style='font-size:10pt'>CMC</span>")
        if cmc:
            ranks = list(range(1, len(cmc) + 1))
            item.plot(ranks, [100 * v for v in cmc], pen=pen(0, 2.0), symbol="o", symbolSize=4,
                      symbolBrush=PALETTE[0], symbolPen=None)
            item.setYRange(0, 100, padding=0.02)

    # -- the selected query ----------------------------------------------------------------------------
    def _show_selected(self, *_) -> None:
        row = self.state.selected_row if self.state is not None else None
        self.send_button.setEnabled(row is not None)
        self.export_button.setEnabled(row is not None)
        self._forget_highlight()
        if row is None:
            self.query_tile.hide()
            self.query_info.setText(self.browser.selection_text())
            self._show_no_query()
            self._show_versus(None, None)
            return
        self.query_tile.show()
        self.query_tile.set_spec(TileSpec(row.path, "query", "", tooltip=row.path))
        self.query_tile.cache.request([row.path], QUERY_SIZE)
        pair, hits = self._rankings(row.index, self.browser.k)
        self.query_info.setText(describe_query(self.state, row, hits))
        self.ranked_title.setText(f"<b>Ranked gallery · {self.current_run().name}</b>")
        self.strip.set_tiles(self._hit_specs(hits, row, pair, theirs=False))
        self._show_versus(row, pair)
        self._show_true_matches(row)

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
        k = min(self.browser.k, self.state.topk)
        return self.workers.start(core_client.export_ranking_figure, self.current_run(), self.eval_combo.currentText(),
                                  [row.index], k, out_path,
                                  on_result=lambda p: self.statusMessage.emit(f"ranking figure written: {p}"),
                                  on_error=self._report_error)

    def _clear(self) -> None:
        self._token += 1   # a load still running belongs to the previous workspace
        self._compare_token += 1
        self.browser.show_nothing()
        self.eval_combo.clear()
        self.compare_combo.clear()

    def _report_error(self, message: str) -> None:
        self.banner.show_error(message)
        self.errorOccurred.emit(message)
