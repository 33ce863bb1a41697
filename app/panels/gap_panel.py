"""Modality gap (paper Fig. 1): how far apart do a run's image and text embeddings sit?

For each run, image embeddings of N identities and their paired text embeddings (the identity's
prototype, or the image's own conditioned text for CoCoOp / SCING) are projected jointly to 2-D
(PCA, or UMAP whose numba compilation starts in the background when the studio opens) and drawn
as red (image) and blue (text) points joined by grey pair lines; the table gives the metrics.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QFormLayout, QHeaderView, QLabel, QSpinBox, QSplitter,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from app.panels.analysis_panel import AnalysisPanel
from app.services import core_client
from app.state.gap import METRIC_COLUMNS, TEXT_KINDS, GapRequest, best_in_column, metric_headers, metric_rows, run_label
from app.state.runs import method_title
from app.widgets.gap_plots import GapPlotsWidget
from app.widgets.layout import STRETCH, hbox, vbox, widget_of

PROJECTION_LABELS = {"pca": "PCA (instant)", "umap": "UMAP (cosine)"}


class GapPanel(AnalysisPanel):
    computed = Signal(list)
    compute_label = "Compute modality gap"
    export_name = "modality_gap.png"
    export_tooltip = "Paper-style panels (PNG + PDF) with the core's figure code"

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._build_common()
        self.results: list = []
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
        self.plots.show_message("Tick runs and press Compute: each run's image (red) and text (blue) embeddings "
                                "are projected together; grey lines join the pairs. A small gap means short lines "
                                "and overlapping clouds.")
        legend = QLabel("<span style='color:#D62728'>●</span> image embedding &nbsp; "
                        "<span style='color:#1F77B4'>▼</span> paired text embedding &nbsp; "
                        "<span style='color:#999'>—</span> pair &nbsp;·&nbsp; ↓ lower is better, ↑ higher is better")
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(widget_of(vbox(self.table, legend, (self.plots, 1))))
        splitter.setSizes([330, 1070])
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addWidget(splitter, 1)

    def _build_options(self) -> QWidget:
        self.projection = QComboBox()
        for key, label in PROJECTION_LABELS.items():
            self.projection.addItem(label, key)
        self.projection.currentIndexChanged.connect(self._poll_umap)
        self.umap_status = QLabel("")
        self.umap_status.setWordWrap(True)
        self.umap_status.setStyleSheet("color: #666;")
        self.ids = QSpinBox()
        self.ids.setRange(2, 500)
        self.ids.setValue(30)
        self.ids.setToolTip("identities from each run's training split (their prototypes exist)")
        self.text = QComboBox()
        self.text.addItems(TEXT_KINDS)
        self.text.setToolTip("auto: the image's own conditioned text for CoCoOp / SCING, the prototype for CLIP-ReID")
        form = QFormLayout()
        form.addRow("Projection", self.projection)
        form.addRow("", self.umap_status)
        form.addRow("Identities", self.ids)
        form.addRow("Text side", self.text)
        return widget_of(vbox(QLabel("<b>Runs</b> (one plot each)"), self.runs, form,
                              hbox(self.compute_button, self.export_button), self.progress, STRETCH))

    # -- UMAP warm-up hint -----------------------------------------------------------------------------
    def watch_umap_warm_up(self, thread) -> None:
        """Show 'compiling…' while the background warm-up thread (from ``api.warm_up_umap``) runs."""
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
            self.umap_status.setText("UMAP ready." if self.umap_thread is not None and wants_umap else "")

    # -- compute ---------------------------------------------------------------------------------------
    def request(self) -> GapRequest:
        return GapRequest(tuple(self.runs.checked_paths()), self.projection.currentData(), self.ids.value(),
                          self.text.currentText())

    def _compute_function(self):
        return core_client.compute_gap

    def _export_function(self):
        return core_client.export_gap_figure

    def _export_payload(self):
        return list(self.results)

    def _compute_started(self, request) -> None:
        self.progress.setText("collecting embeddings…")

    def _show_results(self, outcome) -> None:
        results, failed_runs = outcome
        self._report_failed_runs(failed_runs)
        if not results:
            self.progress.setText("")
            return
        self.results = results
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
        titles = {result.run: f"{run_label(result)} · {method_title(getattr(result, 'method', ''))}"
                  for result in results}
        self.plots.show_results(results, titles)
        self.export_button.setEnabled(True)
        self.progress.setText(f"{len(results)} run(s), {self.projection.currentText()}")
        self.statusMessage.emit("modality gap computed")
        self.computed.emit(results)
