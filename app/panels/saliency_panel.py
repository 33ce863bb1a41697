"""Saliency: where does each model look? Grad-CAM maps of the same images under several runs
(paper Fig. 5), with one shared colour scale and the share of CAM energy on the person (SynthPed
masks). Maps are computed in a worker (``api.compute_saliency``); "Export figure" writes the
paper-style grid with ``api.saliency_grid_figure``.

The Retrieval tab sends images here: a query and its top-3 (target: similarity to the query), or one
query–gallery pair (:meth:`SaliencyPanel.explain_pair`: each image explained by its similarity to the
other). Opening another workspace clears what the previous one left (images, grid, errors).

The panel's model is :class:`app.state.saliency.SaliencyState` (``self.state``): the inputs, the runs,
the computation and the grid; the widgets write to it and draw what it emits.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (QComboBox, QFileDialog, QFormLayout, QLabel, QLineEdit, QPushButton, QSplitter,
                               QToolButton, QVBoxLayout, QWidget)

from app.panels.analysis_panel import AnalysisPanel
from app.services import core_client
from app.state.evented import Placeholder
from app.state.names import breakable, distinguishing_names
from app.state.runs import method_title
from app.state.saliency import MAX_IMAGES, TARGET_KINDS, SaliencyState
from app.widgets.combos import refill_texts
from app.widgets.layout import hbox, vbox, widget_of
from app.widgets.saliency_grid import FALLBACK_FOOTNOTE, SaliencyGridWidget
from app.widgets.saliency_images import ImageListWidget

IMAGE_FILTER = "Images (*.jpg *.jpeg *.png *.bmp)"


def compute_saliency_rows(request, progress=None) -> tuple[dict[str, list], dict[str, str]]:
    """``core_client.compute_saliency_grid`` for each part of the request (a pair: one per image, each
    targeting the other), merged into one ``({run: [results]}, {run: error})``."""
    merged: dict[str, list] = {}
    failed: dict[str, str] = {}
    for part in request.parts():
        results, errors = core_client.compute_saliency_grid(part, progress=progress)
        for run, items in results.items():
            merged.setdefault(run, []).extend(items)
        failed.update(errors)
    return {run: items for run, items in merged.items() if run not in failed}, failed


class SaliencyPanel(AnalysisPanel):
    computed = Signal(object)      # the SaliencyGrid shown
    compute_label = "Compute saliency"
    export_name = "saliency.png"
    export_tooltip = "Paper-style grid (PNG + PDF) with the core's figure code"

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._build_common(SaliencyState())
        self._methods_loaded = False
        self._build()
        self._subscribe()
        self.state.inputs_changed.connect(self._draw_inputs)
        self.state.methods_changed.connect(self._draw_methods)

    def _build(self) -> None:
        left = widget_of(vbox(QLabel(f"<b>Images</b> (rows, at most {MAX_IMAGES})"), (self._build_image_list(), 1),
                              QLabel("<b>Runs</b> (columns)"), self._build_options(), self.progress))
        left.setMaximumWidth(380)
        self.grid_widget = SaliencyGridWidget(QSize(88, 176))
        self.footnote = QLabel(FALLBACK_FOOTNOTE)
        self.footnote.setWordWrap(True)
        self.footnote.setStyleSheet("color: #8A5A00;")
        self.footnote.hide()
        explainer = QLabel("Rows = images, columns = runs. Colours: Grad-CAM activation on one shared scale "
                           "(jet: blue = ignored, red = decisive). Person share = fraction of the map's energy "
                           "on the person mask (higher = attends to the person rather than occluders or background).")
        explainer.setWordWrap(True)
        explainer.setStyleSheet("color: #555;")
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(widget_of(vbox(explainer, (self.grid_widget, 1), self.footnote)))
        splitter.setSizes([360, 1040])
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addWidget(splitter, 1)

    def _build_image_list(self) -> QWidget:
        self.images = ImageListWidget(self.state)
        add = QPushButton("Add files…")
        add.clicked.connect(self._add_files)
        remove = QPushButton("Remove")
        remove.clicked.connect(self.images.remove_selected)
        clear = QPushButton("Clear")
        clear.clicked.connect(self.images.clear)
        return widget_of(vbox((self.images, 1), hbox(add, remove, clear)))

    def _build_options(self) -> QWidget:
        state = self.state
        self.method = QComboBox()
        self.method.addItems(state.methods)
        self.method.currentTextChanged.connect(state.set_method)
        self.target = QComboBox()
        for kind, text in TARGET_KINDS.items():
            self.target.addItem(text, kind)
        self.target.currentIndexChanged.connect(lambda _: state.set_target(self.target.currentData()))
        self.pair_path = QLineEdit()
        self.pair_path.setPlaceholderText("pair image (e.g. the query)")
        self.pair_path.textChanged.connect(state.set_pair_image)
        pair_browse = QToolButton()
        pair_browse.setText("…")
        pair_browse.clicked.connect(self._browse_pair)
        self.pair_widget = widget_of(hbox((self.pair_path, 1), pair_browse))
        self.checkpoint = QComboBox()
        self.checkpoint.addItems(["selected", "last"])
        self.checkpoint.setToolTip("selected: the checkpoint each run reports (its model selection; the final "
                                   "epoch by default); last: the final epoch")
        self.checkpoint.currentTextChanged.connect(state.set_checkpoint)
        form = QFormLayout()
        form.addRow("CAM method", self.method)
        form.addRow("Target", self.target)
        form.addRow("", self.pair_widget)
        form.addRow("Checkpoint", self.checkpoint)
        return widget_of(vbox(self.runs, form, hbox(self.compute_button, self.export_button)))

    def showEvent(self, event) -> None:  # noqa: N802 (Qt API)
        """First shown (its tab chosen): fetch the CAM methods."""
        super().showEvent(event)
        self.load_methods()

    # -- inputs ----------------------------------------------------------------------------------------
    def load_methods(self) -> None:
        """Fetch the CAM methods once (imports torch and pytorch-grad-cam: done in a worker)."""
        if not self._methods_loaded:
            self._methods_loaded = True
            self.workers.start(core_client.cam_methods, on_result=self.state.set_methods,
                               on_error=self.state.report_error)

    def set_images(self, paths, pair_with_first: bool = False) -> None:
        """Replace the image list (e.g. a query and its top matches from the Retrieval tab); with
        ``pair_with_first`` every image is explained by its similarity to the first (the query): the
        pair-image target, since test identities have no text prototype of their own."""
        self.state.set_images(paths, pair_with_first)

    def explain_pair(self, query_path, gallery_path) -> None:
        """A query–gallery pair from the Retrieval tab: both images, each explained by its similarity to
        the other (the 'pair' target); Compute saliency then compares the ticked runs."""
        self.state.explain_pair(query_path, gallery_path)

    def suggest_images(self, paths) -> None:
        """Default images when the list is empty (the retrieval tab's worst queries)."""
        self.state.suggest_images(paths)

    def add_image(self, path) -> None:
        self.state.add_images([path])

    def image_paths(self) -> list[str]:
        return list(self.state.inputs.images)

    def _add_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Images to explain", "", IMAGE_FILTER)
        self.state.add_images(files)

    def _browse_pair(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Pair image", "", IMAGE_FILTER)
        if path:
            self.state.set_pair_image(path)

    # -- drawing the state -----------------------------------------------------------------------------
    def _draw_methods(self, methods) -> None:
        refill_texts(self.method, list(methods), self.state.inputs.method)

    def _draw_inputs(self, *_) -> None:
        inputs = self.state.inputs
        if self.method.currentText() != inputs.method:
            self.method.setCurrentText(inputs.method)
        self.target.setCurrentIndex(self.target.findData(inputs.target))
        if self.pair_path.text() != inputs.pair_image:
            self.pair_path.setText(inputs.pair_image)
        self.checkpoint.setCurrentText(inputs.checkpoint)
        self.pair_widget.setVisible(inputs.target == "image")

    def _draw_shown(self, shown) -> None:
        if isinstance(shown, Placeholder):
            self.grid_widget.show_message(shown.text)
            self.footnote.hide()
            return
        short = dict(zip(shown.run_names, distinguishing_names(shown.run_names)))   # '…gate_on…', not the whole name
        titles = {run: f"{html.escape(breakable(short[run]))}<br><span style='font-weight:normal; color:#555'>"
                       f"{method_title(self.state.method_of(run))}</span>" for run in shown.run_names}
        self.grid_widget.show_grid(shown, titles)
        self.footnote.setVisible(shown.has_fallbacks)
        self.statusMessage.emit("saliency computed")
        self.computed.emit(shown)

    # -- compute ---------------------------------------------------------------------------------------
    def _compute_function(self):
        return compute_saliency_rows

    def _export_function(self):
        return core_client.export_saliency_figure
