"""Saliency: where does each model look? Grad-CAM maps of the same images under several runs
(paper Fig. 5), with one shared colour scale and the share of CAM energy on the person (SynthPed
masks). Maps are computed in a worker (``api.compute_saliency``); "Export figure" writes the
paper-style grid with ``api.saliency_grid_figure``.

The Retrieval tab sends images here: a query and its top-3 (target: similarity to the query), or one
query–gallery pair (:meth:`SaliencyPanel.explain_pair`: each image explained by its similarity to the
other). Opening another workspace clears what the previous one left (images, grid, errors).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (QComboBox, QFileDialog, QFormLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem,
                               QPushButton, QSplitter, QToolButton, QVBoxLayout, QWidget)

from app.panels.analysis_panel import AnalysisPanel
from app.services import core_client
from app.state.runs import method_title
from app.state.saliency import (MAX_IMAGES, TARGET_KINDS, SaliencyGrid, SaliencyRequest, pair_target,
                                workspace_changed)
from app.widgets.images import load_pixmap
from app.widgets.layout import hbox, vbox, widget_of
from app.widgets.saliency_grid import FALLBACK_FOOTNOTE, SaliencyGridWidget

FALLBACK_METHODS = ["gradcam"]
IMAGE_FILTER = "Images (*.jpg *.jpeg *.png *.bmp)"
START_TEXT = ("Pick images (or press 'Compare saliency' in the Retrieval tab, or click a gallery tile there), tick "
              "the runs to compare, then Compute saliency.")


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
        self._build_common()
        self.results_by_run: dict[str, list] = {}
        self.grid: SaliencyGrid | None = None
        self._methods_loaded = False
        self._run_dirs: list[Path] = []
        self._build()

    def _build(self) -> None:
        left = widget_of(vbox(QLabel(f"<b>Images</b> (rows, at most {MAX_IMAGES})"), (self._build_image_list(), 1),
                              QLabel("<b>Runs</b> (columns)"), self._build_options(), self.progress))
        left.setMaximumWidth(380)
        self.grid_widget = SaliencyGridWidget(QSize(88, 176))
        self.grid_widget.show_message(START_TEXT)
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
        self._target_changed()

    def _build_image_list(self) -> QWidget:
        self.images = QListWidget()
        self.images.setIconSize(QSize(24, 48))
        self.images.setMinimumHeight(120)
        add = QPushButton("Add files…")
        add.clicked.connect(self._add_files)
        remove = QPushButton("Remove")
        remove.clicked.connect(lambda: [self.images.takeItem(self.images.row(i)) for i in self.images.selectedItems()])
        clear = QPushButton("Clear")
        clear.clicked.connect(self.images.clear)
        return widget_of(vbox((self.images, 1), hbox(add, remove, clear)))

    def _build_options(self) -> QWidget:
        self.method = QComboBox()
        self.method.addItems(FALLBACK_METHODS)
        self.target = QComboBox()
        for kind, text in TARGET_KINDS.items():
            self.target.addItem(text, kind)
        self.target.currentIndexChanged.connect(self._target_changed)
        self.pair_path = QLineEdit()
        self.pair_path.setPlaceholderText("pair image (e.g. the query)")
        pair_browse = QToolButton()
        pair_browse.setText("…")
        pair_browse.clicked.connect(self._browse_pair)
        self.pair_widget = widget_of(hbox((self.pair_path, 1), pair_browse))
        self.checkpoint = QComboBox()
        self.checkpoint.addItems(["selected", "last"])
        self.checkpoint.setToolTip("selected: the checkpoint each run reports (its model selection; the final "
                                   "epoch by default); last: the final epoch")
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
            self.workers.start(core_client.cam_methods, on_result=self._methods_ready, on_error=self._report_error)

    def _methods_ready(self, methods: list[str]) -> None:
        current = self.method.currentText()
        self.method.clear()
        self.method.addItems(methods)
        self.method.setCurrentText(current if current in methods else "gradcam")

    def set_images(self, paths, pair_with_first: bool = False) -> None:
        """Replace the image list (e.g. a query and its top matches from the Retrieval tab); with
        ``pair_with_first`` every image is explained by its similarity to the first (the query): the
        pair-image target, since test identities have no text prototype of their own."""
        self.images.clear()
        for path in list(paths)[:MAX_IMAGES]:
            self.add_image(path)
        if pair_with_first and paths:
            self.pair_path.setText(str(paths[0]))
            self._set_target("image")

    def explain_pair(self, query_path, gallery_path) -> None:
        """A query–gallery pair from the Retrieval tab: both images, each explained by its similarity to
        the other (the 'pair' target); Compute saliency then compares the ticked runs."""
        self.set_images([query_path, gallery_path])
        self.pair_path.setText(str(query_path))
        self._set_target("pair")
        self.progress.setText("Query–gallery pair ready: tick the runs, then Compute saliency.")

    def _set_target(self, kind: str) -> None:
        self.target.setCurrentIndex(self.target.findData(kind))

    def suggest_images(self, paths) -> None:
        """Default images when the list is empty (the retrieval tab's worst queries)."""
        if self.images.count() == 0:
            self.set_images(paths)

    def add_image(self, path) -> None:
        item = QListWidgetItem(QIcon(load_pixmap(path, QSize(24, 48))), Path(path).name)
        item.setData(Qt.ItemDataRole.UserRole, str(path))
        item.setToolTip(str(path))
        self.images.addItem(item)

    def image_paths(self) -> list[str]:
        return [self.images.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.images.count())]

    def _add_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Images to explain", "", IMAGE_FILTER)
        for path in files:
            self.add_image(path)

    def _browse_pair(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Pair image", "", IMAGE_FILTER)
        if path:
            self.pair_path.setText(path)

    def _target_changed(self, *_) -> None:
        self.pair_widget.setVisible(self.target.currentData() == "image")

    # -- workspace ------------------------------------------------------------------------------------------
    def set_runs(self, rows) -> None:
        """The workspace's runs; when they come from another workspace, nothing of the previous one stays."""
        run_dirs = [row.path for row in rows]
        if workspace_changed(self._run_dirs, run_dirs):
            self.clear_view()      # errors, progress, export; drops computations still running
        self._run_dirs = run_dirs
        super().set_runs(rows)

    def _clear_results(self) -> None:
        """Images, grid and run ticks of the previous workspace (``clear_view`` does the rest)."""
        self.images.clear()
        self.pair_path.clear()
        self.results_by_run, self.grid = {}, None
        self.grid_widget.show_message(START_TEXT)
        self.footnote.hide()
        self.runs.clear()          # its ticks mean nothing here: the default runs get ticked

    def request(self) -> SaliencyRequest:
        kind = self.target.currentData()
        target = pair_target(self.pair_path.text().strip()) if kind == "image" else kind
        return SaliencyRequest(tuple(self.image_paths()), tuple(self.runs.checked_paths()),
                               self.method.currentText(), target, self.checkpoint.currentText())

    # -- compute and show ------------------------------------------------------------------------------
    def _compute_function(self):
        return compute_saliency_rows

    def _export_function(self):
        return core_client.export_saliency_figure

    def _export_payload(self):
        return dict(self.results_by_run)

    def _compute_started(self, request) -> None:
        self.footnote.hide()
        self.progress.setText("loading models…")
        self.grid_widget.show_message(f"Computing {request.method} for {len(request.image_paths)} image(s) × "
                                      f"{len(request.run_dirs)} run(s)…")

    def _compute_failed_view(self) -> None:
        self.grid_widget.show_message("Saliency could not be computed — see the message above.")

    def _show_results(self, outcome) -> None:
        results_by_run, failed_runs = outcome
        self._report_failed_runs(failed_runs)
        if not results_by_run:
            self.progress.setText("")
            self.grid_widget.show_message("No run could be explained — see the message above.")
            return
        self.results_by_run = results_by_run
        self.grid = SaliencyGrid.from_results(results_by_run)
        titles = {run: f"{run}<br><span style='font-weight:normal; color:#555'>"
                       f"{method_title(self.run_methods.get(run, ''))}</span>" for run in self.grid.run_names}
        self.grid_widget.show_grid(self.grid, titles)
        self.footnote.setVisible(self.grid.has_fallbacks)
        self.export_button.setEnabled(True)
        method = next((r.method for results in results_by_run.values() for r in results), "")
        self.progress.setText(f"{method}: {len(self.grid.image_paths)} image(s) × {len(self.grid.run_names)} run(s)")
        self.statusMessage.emit("saliency computed")
        self.computed.emit(self.grid)
