"""Modality gap (paper Fig. 1): how far apart do a run's image and text embeddings sit?

For each run, image embeddings of N identities and their paired text embeddings (the identity's
prototype, or the image's own conditioned text for CoCoOp / SCING) are projected jointly to 2-D
(PCA here; UMAP and t-SNE in a separate process, where UMAP compiles when the studio opens) and
drawn as red (image) and blue (text) points joined by grey pair lines; the table gives the metrics.
Like an embedding projector, hovering a point shows its image, identity and caption; a click selects a
point and lists its 10 nearest neighbours in the embedding (not the projection); a double click on an
image point opens what it is — a query of the run's eval in Retrieval (``openQuery``), any other image
in Dataset (``showImage``); the plots zoom and pan. "Colour by" recolours the points (modality,
identity, camera, occlusion, split) without computing anything; "find" rings an identity's points or
the images whose path matches; the Lasso selects points by a free-form polygon, and "Send to Retrieval"
hands its query images to Retrieval as a filter (``sendQueries``).

Embeddings are computed once per run and inputs (:mod:`app.state.embedding_cache`): changing only the
projection re-projects at once when plots are shown. A UMAP / t-SNE projection shows a busy bar with its
elapsed seconds and can be cancelled (the projection process is stopped; the plots shown stay).

The panel's model is :class:`app.state.gap.GapState` (``self.state``): the inputs, the runs, the
computation, the plots and metrics, the hovered point and the UMAP warm-up hint; the widgets write to it
and draw what it emits. The projection itself runs in the projection process, the rest in a worker.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from PySide6.QtCore import QTimer, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QFormLayout, QHeaderView, QLabel, QPushButton, QSpinBox,
                               QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from app.panels.gap_projector import GapProjector

from app.panels.analysis_panel import AnalysisPanel
from app.services import core_client
from app.services.embedding_process import ProjectionCancelled, ProjectionProcess
from app.state.embedding_cache import EmbeddingCache
from app.state.evented import Placeholder
from app.state.gap import (METRIC_COLUMNS, PROJECTION_LABELS, SPLIT_LABELS, TEXT_KINDS, GapState, best_in_column,
                           metric_headers, metric_rows)
from app.widgets.gap_plots import GapPlotsWidget
from app.widgets.error_banner import wrap_anywhere
from app.widgets.layout import STRETCH, hbox, vbox, widget_of
from app.widgets.run_names import show_run_names


def compute_cancellable(request, progress=None, *, projector, cache):
    """The gap of ``request`` (in a worker); None when its projection was cancelled (no error to report)."""
    try:
        return core_client.compute_gap_view(request, projector=projector, progress=progress, cache=cache)
    except ProjectionCancelled:
        return None


class GapPanel(AnalysisPanel):
    computed = Signal(list)
    openQuery = Signal(str, str)     # run directory, image path (a clicked query image)
    showImage = Signal(str, str)     # image path, dataset loader (a clicked image that is no query of the run)
    sendQueries = Signal(str, str, list, str)   # run directory, eval folder, query image paths, label (a lasso)
    compute_label = "Compute modality gap"
    export_name = "modality_gap.png"
    export_tooltip = "Paper-style panels (PNG + PDF) with the core's figure code"

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._build_common(GapState(core_client.gap_projections()))
        self.projector = ProjectionProcess()
        self.embedding_cache = EmbeddingCache()
        self.umap_timer = QTimer(self)
        self.umap_timer.setInterval(500)
        self.umap_timer.timeout.connect(self._poll_umap)
        self.view_tools = GapProjector(self)
        self._build()
        self._subscribe()
        self.view_tools.subscribe()
        self.state.inputs_changed.connect(self._draw_inputs)
        self.state.hover_changed.connect(self._draw_hover)
        self.state.umap_status_changed.connect(self._draw_umap_status)

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
        self.plots.pointHovered.connect(self.state.set_hovered)
        self.plots.pointClicked.connect(self._point_clicked)
        tools = self.view_tools
        self.hover_info = wrap_anywhere(QLabel())   # a long path or caption never widens the window
        self.hover_info.setMinimumHeight(136)
        self.hover_info.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.hover_info.setWordWrap(True)
        legend = QLabel("● image embedding &nbsp; ▼ paired text embedding &nbsp; "
                        "<span style='color:#999'>—</span> pair &nbsp;·&nbsp; ↓ lower is better, ↑ higher is better")
        tools.neighbours.widget.setMinimumWidth(300)
        middle = QSplitter(Qt.Orientation.Horizontal)
        middle.addWidget(self.plots)
        middle.addWidget(tools.neighbours.widget)
        middle.setSizes([800, 330])
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(widget_of(vbox(self.table, hbox(legend, STRETCH), tools.colour.legend, (middle, 1),
                                          self.hover_info)))
        splitter.setSizes([330, 1070])
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addWidget(splitter, 1)

    def _build_options(self) -> QWidget:
        state = self.state
        self.projection = QComboBox()
        for key in core_client.gap_projections():
            self.projection.addItem(PROJECTION_LABELS.get(key, key), key)
        self.projection.currentIndexChanged.connect(lambda _: self._projection_chosen(self.projection.currentData()))
        self.umap_status = QLabel("")
        self.umap_status.setWordWrap(True)
        self.umap_status.setStyleSheet("color: #666;")
        self.ids = QSpinBox()
        self.ids.setRange(2, 500)
        self.ids.setValue(state.inputs.ids)
        self.ids.setToolTip("identities drawn from the chosen split (8 images each at most)")
        self.ids.valueChanged.connect(lambda value: state.set_inputs(ids=value))
        self.text = QComboBox()
        self.text.addItems(TEXT_KINDS)
        self.text.setToolTip("auto: the image's own conditioned text for CoCoOp / SCING, the prototype for CLIP-ReID")
        self.text.currentTextChanged.connect(lambda text: state.set_inputs(text=text))
        self.split = QComboBox()
        for key, label in SPLIT_LABELS.items():
            self.split.addItem(label, key)
        self.split.setToolTip("query + gallery: test identities, each paired with its nearest training prototype; "
                              "a click opens a query image in Retrieval, any other image in Dataset")
        self.split.currentIndexChanged.connect(lambda _: state.set_inputs(split=self.split.currentData()))
        self.reset_zoom_button = QPushButton("Reset zoom")
        self.reset_zoom_button.clicked.connect(lambda: self.plots.reset_zoom())
        form = QFormLayout()
        form.addRow("Projection", self.projection)
        form.addRow("", self.umap_status)
        form.addRow("Identities", self.ids)
        form.addRow("Text side", self.text)
        form.addRow("Images of", self.split)
        tools = self.view_tools
        form.addRow("Colour by", tools.colour.combo)
        lasso = tools.lasso
        return widget_of(vbox(QLabel("<b>Runs</b> (one plot each)"), self.runs, form,
                              hbox(self.compute_button, self.export_button), tools.busy, self.progress,
                              self.reset_zoom_button, tools.find.edit, tools.find.message,
                              hbox(lasso.toggle, lasso.send, lasso.clear), lasso.count, STRETCH))

    def _projection_chosen(self, projection) -> None:
        """A projection chosen: when only it changed since the plots shown, re-project now (the embeddings
        are cached: PCA is instant, UMAP / t-SNE show their progress and can be cancelled)."""
        self.state.set_inputs(projection=projection)
        if self.state.reprojectable():
            self.compute()

    # -- UMAP warm-up hint -----------------------------------------------------------------------------
    @property
    def umap_thread(self):
        """The UMAP warm-up followed (a thread, or the projection process's handle; None: none)."""
        return self.state.umap_warm_up

    def start_umap_warm_up(self):
        """Compile UMAP in the projection process now (niced, off this process: the window stays responsive)."""
        handle = self.projector.start_warm_up()
        self.watch_umap_warm_up(handle)
        return handle

    def watch_umap_warm_up(self, thread) -> None:
        """Show 'compiling…' while the warm-up (a thread, or the projection process's handle) runs."""
        self.state.watch_umap_warm_up(thread)
        if thread is not None:
            self.umap_timer.start()

    def umap_unavailable(self, reason) -> None:
        self.state.umap_unavailable(reason)

    def _poll_umap(self) -> None:
        if not self.state.poll_umap():
            self.umap_timer.stop()

    # -- drawing the state -----------------------------------------------------------------------------
    def _draw_inputs(self, *_) -> None:
        inputs = self.state.inputs
        self.projection.setCurrentIndex(self.projection.findData(inputs.projection))
        self.ids.setValue(inputs.ids)
        self.text.setCurrentText(inputs.text)
        self.split.setCurrentIndex(self.split.findData(inputs.split))

    def _draw_all(self) -> None:
        super()._draw_all()
        self._draw_hover(self.state.hover)
        self._draw_umap_status(self.state.umap_status)
        self.view_tools.busy.set_busy(self.state.busy)

    def _draw_hover(self, text: str) -> None:
        self.hover_info.setText(text)

    def _draw_umap_status(self, text: str) -> None:
        self.umap_status.setText(text)

    def _draw_shown(self, shown) -> None:
        if isinstance(shown, Placeholder):
            self.table.setRowCount(0)
            self.plots.show_message(shown.text, error=shown.error)
            self.view_tools.views_shown([])
            return
        self._fill_table(shown.results)
        self.plots.show_views(shown.views)
        self.view_tools.views_shown(shown.views)
        self.statusMessage.emit("modality gap computed")
        self.computed.emit(shown.results)

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
        show_run_names(self.table, 0)   # runs told apart by the part of their names that differs

    # -- compute and the linked view ---------------------------------------------------------------------
    def _compute_function(self):
        return partial(compute_cancellable, projector=self.projector.project, cache=self.embedding_cache)

    def compute(self) -> bool:
        """Compute the gap; the embeddings of runs computed before are reused, unless Compute is pressed again
        on the very inputs shown (then they are computed anew)."""
        request = self.state.request()
        if request == self.state.shown_request:
            self.embedding_cache.forget(str(Path(run).expanduser().resolve()) for run in request.run_dirs)
        started = super().compute()
        if started:
            self.plots.prepare(len(request.run_dirs))   # built while the worker computes, not when it delivers
        return started

    def cancel(self) -> bool:
        """Stop the computation running (a UMAP / t-SNE projection: its process is stopped); the plots stay."""
        if not self.state.cancel():
            return False
        self.projector.cancel()
        self.statusMessage.emit("modality gap: cancelled; the plots shown stay")
        return True

    def _export_function(self):
        return core_client.export_gap_figure

    def _point_clicked(self, point) -> None:
        click = self.state.click_of(point)
        if click is None:
            return
        name = Path(click.path).name
        if click.is_query:
            self.statusMessage.emit(f"opening query {name} of {Path(click.run).name} in Retrieval")
            self.openQuery.emit(click.run, click.path)
        else:
            self.statusMessage.emit(f"showing {name} in Dataset (it is no query of {Path(click.run).name})")
            self.showImage.emit(click.path, click.dataset)

    def shutdown(self) -> None:
        """Stop the projection process (the window closes)."""
        self.umap_timer.stop()
        self.view_tools.busy.set_busy(False)
        self.projector.shutdown()
