"""Modality gap (paper Fig. 1): how far apart do a run's image and text embeddings sit?

For each run, image embeddings of N identities and their paired text embeddings (the identity's
prototype, or the image's own conditioned text for CoCoOp / SCING) are projected jointly to 2-D
(PCA here; UMAP and t-SNE in a separate process, where UMAP compiles when the studio opens) and
drawn as red (image) and blue (text) points joined by grey pair lines; the table gives the metrics.
Like an embedding projector, hovering a point shows its image, identity and caption, clicking an
image point opens it in Retrieval (``openQuery``), and the plots zoom and pan.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from PySide6.QtCore import QTimer, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QFormLayout, QHeaderView, QLabel, QPushButton, QSpinBox,
                               QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from app.panels.analysis_panel import AnalysisPanel
from app.services import core_client
from app.services.embedding_process import ProjectionProcess
from app.state.gap import METRIC_COLUMNS, TEXT_KINDS, GapRequest, best_in_column, metric_headers, metric_rows
from app.state.gap_view import IMAGE
from app.widgets.gap_plots import GapPlotsWidget
from app.widgets.layout import STRETCH, hbox, vbox, widget_of

PROJECTION_LABELS = {"pca": "PCA (instant)", "umap": "UMAP (cosine)", "tsne": "t-SNE (cosine)"}
SPLIT_LABELS = {"train": "training identities", "test": "query + gallery identities"}
INTRO = ("Tick runs and press Compute: each run's image (red) and text (blue) embeddings are projected together; "
         "grey lines join the pairs. A small gap means short lines and overlapping clouds. Hover a point to see "
         "its image; with query + gallery identities, click an image to open it in Retrieval.")
HOVER_HINT = "<span style='color:#777'>Hover a point: its image, identity and caption show here. Wheel: zoom · " \
             "drag: pan.</span>"


class GapPanel(AnalysisPanel):
    computed = Signal(list)
    openQuery = Signal(str, str)     # run directory, image path (a clicked image point)
    compute_label = "Compute modality gap"
    export_name = "modality_gap.png"
    export_tooltip = "Paper-style panels (PNG + PDF) with the core's figure code"

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._build_common()
        self.results: list = []
        self.views: list = []
        self.projector = ProjectionProcess()
        self.umap_thread = None
        self.umap_timer = QTimer(self)
        self.umap_timer.setInterval(500)
        self.umap_timer.timeout.connect(self._poll_umap)
        self._build()

    def _build(self) -> None:
        left = self._build_options()
        left.setMaximumWidth(360)
        self.table = QTableWidget(0, len(metric_headers()))
        self.table.setHorizontalHeaderLabels(metric_headers())
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setMaximumHeight(130)
        self.plots = GapPlotsWidget()
        self.plots.show_message(INTRO)
        self.plots.pointHovered.connect(self._point_hovered)
        self.plots.pointClicked.connect(self._point_clicked)
        self.hover_info = QLabel(HOVER_HINT)
        self.hover_info.setMinimumHeight(136)
        self.hover_info.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.hover_info.setWordWrap(True)
        legend = QLabel("<span style='color:#D62728'>●</span> image embedding &nbsp; "
                        "<span style='color:#1F77B4'>▼</span> paired text embedding &nbsp; "
                        "<span style='color:#999'>—</span> pair &nbsp;·&nbsp; ↓ lower is better, ↑ higher is better")
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(widget_of(vbox(self.table, legend, (self.plots, 1), self.hover_info)))
        splitter.setSizes([330, 1070])
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addWidget(splitter, 1)

    def _build_options(self) -> QWidget:
        self.projection = QComboBox()
        for key in core_client.gap_projections():
            self.projection.addItem(PROJECTION_LABELS.get(key, key), key)
        self.projection.currentIndexChanged.connect(self._poll_umap)
        self.umap_status = QLabel("")
        self.umap_status.setWordWrap(True)
        self.umap_status.setStyleSheet("color: #666;")
        self.ids = QSpinBox()
        self.ids.setRange(2, 500)
        self.ids.setValue(30)
        self.ids.setToolTip("identities drawn from the chosen split (8 images each at most)")
        self.text = QComboBox()
        self.text.addItems(TEXT_KINDS)
        self.text.setToolTip("auto: the image's own conditioned text for CoCoOp / SCING, the prototype for CLIP-ReID")
        self.split = QComboBox()
        for key, label in SPLIT_LABELS.items():
            self.split.addItem(label, key)
        self.split.setToolTip("query + gallery: test identities, each paired with its nearest training prototype; "
                              "their query images open in Retrieval when clicked")
        self.reset_zoom_button = QPushButton("Reset zoom")
        self.reset_zoom_button.clicked.connect(lambda: self.plots.reset_zoom())
        form = QFormLayout()
        form.addRow("Projection", self.projection)
        form.addRow("", self.umap_status)
        form.addRow("Identities", self.ids)
        form.addRow("Text side", self.text)
        form.addRow("Images of", self.split)
        return widget_of(vbox(QLabel("<b>Runs</b> (one plot each)"), self.runs, form,
                              hbox(self.compute_button, self.export_button), self.reset_zoom_button, self.progress,
                              STRETCH))

    # -- UMAP warm-up hint -----------------------------------------------------------------------------
    def start_umap_warm_up(self):
        """Compile UMAP in the projection process now (niced, off this process: the window stays responsive)."""
        handle = self.projector.start_warm_up()
        self.watch_umap_warm_up(handle)
        return handle

    def watch_umap_warm_up(self, thread) -> None:
        """Show 'compiling…' while the warm-up (a thread, or the projection process's handle) runs."""
        self.umap_thread = thread
        self._poll_umap()
        if thread is not None:
            self.umap_timer.start()

    def _poll_umap(self, *_) -> None:
        compiling = self.umap_thread is not None and self.umap_thread.is_alive()
        if not compiling:
            self.umap_timer.stop()
        wants_umap = self.projection.currentData() == "umap"
        if compiling:
            self.umap_status.setText("UMAP is compiling in the background (first use: 15–40 s); a UMAP projection "
                                     "started now waits for it." if wants_umap else "UMAP: compiling in the background…")
        else:
            failed = getattr(self.umap_thread, "error", lambda: "")()
            if failed:
                self.umap_status.setText(f"UMAP warm-up failed ({failed}); a UMAP projection compiles when it starts.")
            else:
                self.umap_status.setText("UMAP ready." if self.umap_thread is not None and wants_umap else "")

    # -- compute ---------------------------------------------------------------------------------------
    def request(self) -> GapRequest:
        return GapRequest(tuple(self.runs.checked_paths()), self.projection.currentData(), self.ids.value(),
                          self.text.currentText(), split=self.split.currentData())

    def _compute_function(self):
        return partial(core_client.compute_gap_view, projector=self.projector.project)

    def _export_function(self):
        return core_client.export_gap_figure

    def _export_payload(self):
        return list(self.results)

    def _compute_started(self, request) -> None:
        self.progress.setText("collecting embeddings…")

    def _clear_results(self) -> None:
        self.results, self.views = [], []
        self.table.setRowCount(0)
        self.plots.show_message(INTRO)
        self.hover_info.setText(HOVER_HINT)

    def _show_failure(self, message: str) -> None:
        """The error in place of the plots: nothing of an earlier computation stays on screen."""
        self.results, self.views = [], []
        self.table.setRowCount(0)
        self.export_button.setEnabled(False)
        self.plots.show_message(f"The modality gap could not be computed: {message}", error=True)
        self.hover_info.setText(HOVER_HINT)

    def _show_results(self, outcome) -> None:
        views, results, failed_runs = outcome
        self._report_failed_runs(failed_runs)
        if not results:
            self.progress.setText("")
            self._show_failure("no run could be used — " + "; ".join(f"{run}: {m}" for run, m in failed_runs.items()))
            return
        self.results, self.views = results, views
        self._fill_table(results)
        self.plots.show_views(views)
        self.hover_info.setText(HOVER_HINT)
        self.export_button.setEnabled(True)
        self.progress.setText(f"{len(results)} run(s), {self.projection.currentText()}")
        self.statusMessage.emit("modality gap computed")
        self.computed.emit(results)

    def _fill_table(self, results) -> None:
        rows = metric_rows(results)
        self.table.setRowCount(len(rows))
        bold = QFont()
        bold.setBold(True)
        best = {4 + c: best_in_column(results, key) for c, (key, _, _) in enumerate(METRIC_COLUMNS)}
        for r, values in enumerate(rows):
            for c, value in enumerate(values):
                item = QTableWidgetItem(value)
                if r in best.get(c, ()):
                    item.setFont(bold)
                self.table.setItem(r, c, item)

    # -- linked view -------------------------------------------------------------------------------------
    def _point_hovered(self, point, text: str) -> None:
        if point is not None:
            self.hover_info.setText(f"<b>{Path(point.run).name}</b>{text}")

    def _point_clicked(self, point) -> None:
        view = next((v for v in self.views if v.run == point.run), None)
        path = view.image_path(point.index) if view is not None and point.kind == IMAGE else ""
        if path:
            self.statusMessage.emit(f"opening {Path(path).name} of {Path(point.run).name} in Retrieval")
            self.openQuery.emit(point.run, path)

    def shutdown(self) -> None:
        """Stop the projection process (the window closes)."""
        self.umap_timer.stop()
        self.projector.shutdown()
