"""Dataset explorer: what a ReID dataset holds, split by split.

Pick a registered dataset loader and a folder (the workspace's ``data/*`` folders are offered, the
first one that a loader recognises opens by default): the table gives identities, images, cameras,
images per identity and occluded images per split; the bar charts the distribution of images per
identity; the grid an identity's images (occluded ones outlined, SynthPed-Occluded). Another tab can
show one image here (:meth:`DatasetPanel.show_image`: its identity browsed, the image framed in blue).
Loading and thumbnails run in workers; a dataset that cannot be read shows its error in place of the data.

The panel's model is :class:`app.state.dataset_summary.DatasetState` (``self.state``): the data folders,
the loader and folder to open, the dataset shown, the identities and the one browsed; the widgets write
to it and draw what it emits (a new identity browsed: its thumbnails load in a worker).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QFileDialog, QHeaderView, QLabel, QListWidget,
                               QListWidgetItem, QPushButton, QSplitter, QStackedWidget, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from app.services import core_client
from app.services.workers import WorkerPool
from app.state.dataset_summary import GROUPS, DatasetState
from app.state.evented import Placeholder
from app.widgets.dataset_views import SampleGridWidget, SplitHistogramsWidget, load_thumbnails
from app.widgets.error_banner import ErrorBanner, wrap_anywhere
from app.widgets.layout import hbox, vbox, widget_of

HEADERS = ("split", "identities", "images", "cameras", "images per id (min / med / max)", "occluded")
MESSAGE_STYLES = {"note": "color: #666; font-size: 11pt;", "error": "color: #8A1C12; font-size: 11pt;"}
NO_IDENTITY = "Pick an identity to see its images."


class DatasetPanel(QWidget):
    errorOccurred = Signal(str)
    statusMessage = Signal(str)
    loaded = Signal(object)         # the DatasetSummary shown
    samplesShown = Signal(object)   # the identity key whose images are shown

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.workers = WorkerPool(self)
        self.state = DatasetState(core_client.dataset_names())
        self._build()
        self._subscribe()

    def _build(self) -> None:
        self.banner = ErrorBanner()
        self.message = wrap_anywhere(QLabel())   # messages name folders
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.pages = QStackedWidget()
        self.pages.addWidget(self._build_content())
        self.pages.addWidget(self.message)
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addLayout(self._build_header())
        layout.addWidget(self.pages, 1)

    def _build_header(self):
        state = self.state
        self.loader = QComboBox()
        self.loader.addItems(state.loader_names)
        self.loader.setToolTip("the dataset loader (api.list_datasets)")
        self.loader.currentTextChanged.connect(state.set_loader)
        self.folder = QComboBox()
        self.folder.setEditable(True)
        self.folder.setMinimumWidth(380)
        self.folder.editTextChanged.connect(state.set_folder)
        self.folder.activated.connect(lambda _: state.pick_folder(self.folder.currentText()))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.open_button = QPushButton("Open")
        self.open_button.setDefault(True)
        self.open_button.clicked.connect(lambda: self.load(state.source.loader, state.source.folder))
        return hbox(QLabel("Dataset"), self.loader, QLabel("Folder"), (self.folder, 1), browse, self.open_button)

    def _build_content(self) -> QWidget:
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.histograms = SplitHistogramsWidget()
        self.group = QComboBox()
        self.group.addItems(GROUPS)
        self.group.currentTextChanged.connect(self.state.set_group)
        self.identities = QListWidget()
        self.identities.currentItemChanged.connect(lambda item, _: self.show_identity(item.data(Qt.ItemDataRole.UserRole)
                                                                                      if item else None))
        self.grid = SampleGridWidget()
        self.grid_title = wrap_anywhere(QLabel(""))
        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.addWidget(widget_of(vbox(QLabel("<b>Identities</b>"), self.group, (self.identities, 1))))
        lower.addWidget(widget_of(vbox(self.grid_title, (self.grid, 1))))
        lower.setSizes([330, 1070])
        self.caption = wrap_anywhere(QLabel(""))   # the dataset root, however long
        return widget_of(vbox(self.caption, self.table, self.histograms, (lower, 1)))

    def _subscribe(self) -> None:
        """The state emits, the widgets draw."""
        state = self.state
        state.reset.connect(self._draw_all)
        state.folders_changed.connect(self._draw_folders)
        state.source_changed.connect(self._draw_source)
        state.shown_changed.connect(self._draw_shown)
        state.group_changed.connect(self._draw_group)
        state.identities_changed.connect(self._draw_identities)
        state.identity_changed.connect(self._identity_changed)
        state.samples_changed.connect(self._draw_samples)
        state.image_changed.connect(self.grid.mark)
        state.loaded.connect(self._loaded)
        state.error_reported.connect(self._error_reported)
        state.error_cleared.connect(lambda: self.banner.hide())
        self._draw_all()

    @property
    def workspace(self) -> Path | None:
        return self.state.workspace

    # -- the window's panel protocol (app/panels/registry.py) -------------------------------------------
    def workspace_changed(self, path, rows) -> None:
        self.set_workspace(path)

    def screenshot_wanted(self) -> bool:
        return True

    def screenshot_start(self, runs):
        return None   # the dataset loads on its own

    def set_workspace(self, workspace) -> None:
        """Offer the workspace's data folders; a different workspace clears the view and opens its first dataset."""
        if workspace is not None and Path(workspace) == self.state.workspace:
            return
        folders = core_client.data_folders(workspace) if workspace is not None else []
        self._read(self.state.set_workspace(workspace, folders))

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Dataset folder", self.folder.currentText() or str(Path.home()))
        if folder:
            self.state.pick_folder(folder)

    # -- loading ------------------------------------------------------------------------------------------
    def load(self, name: str, root) -> None:
        """Load dataset ``name`` from ``root`` in a worker; the view is cleared first."""
        self._read(self.state.load(name, root))

    def _read(self, load) -> None:
        if load is not None:
            ticket, name, root = load
            self.workers.start(core_client.load_dataset_summary, name, root,
                               on_result=lambda summary: self.state.show_loaded(ticket, summary),
                               on_error=lambda message: self.state.show_failure(ticket, name, root, message))

    def show_image(self, path, loader: str = "") -> None:
        """Show the image at ``path`` among its identity's images (its dataset, read with ``loader``, opens
        first when another one is shown)."""
        self._read(self.state.show_image(path, loader))

    def show_identity(self, key) -> None:
        """Show identity ``key`` (``(group, pid)``): its thumbnails load in a worker."""
        self.state.select_identity(key)

    def busy(self) -> bool:
        return self.workers.busy

    # -- drawing the state ----------------------------------------------------------------------------------
    def _draw_all(self) -> None:
        state = self.state
        self._draw_folders(state.folders)
        self._draw_source(state.source)
        self._draw_shown(state.shown)
        self._draw_group(state.group)
        self._draw_identities(state.identities)
        self._draw_identity(state.identity)
        self._draw_samples(state.samples)
        if state.error:
            self.banner.show_error(state.error)
        else:
            self.banner.hide()

    def _draw_folders(self, folders) -> None:
        self.folder.blockSignals(True)   # drawing the state is no choice by hand
        self.folder.clear()
        self.folder.addItems(folders)
        self.folder.setEditText(self.state.source.folder)
        self.folder.blockSignals(False)

    def _draw_source(self, source) -> None:
        if source.loader and self.loader.currentText() != source.loader:
            self.loader.setCurrentText(source.loader)
        if self.folder.currentText() != source.folder:
            self.folder.setEditText(source.folder)

    def _draw_shown(self, shown) -> None:
        if isinstance(shown, Placeholder):
            self.table.setRowCount(0)
            self.histograms.clear()
            self.message.setText(shown.text)
            self.message.setStyleSheet(MESSAGE_STYLES["error" if shown.error else "note"])
            self.pages.setCurrentWidget(self.message)
            return
        self.pages.setCurrentIndex(0)
        self.caption.setText(f"<b>{shown.name}</b> · {shown.root}" +
                             ("" if shown.has_captions else " · <span style='color:#777'>no captions / occlusion "
                                                            "records</span>"))
        rows = shown.table_rows()
        self.table.setRowCount(len(rows))
        for r, values in enumerate(rows):
            for c, value in enumerate(values):
                self.table.setItem(r, c, QTableWidgetItem(value))
        self._fit_table()
        self.histograms.show_stats(shown.stats)

    def _fit_table(self) -> None:
        """As tall as its rows: no scroll bar for three splits."""
        rows = sum(self.table.rowHeight(r) for r in range(self.table.rowCount()))
        self.table.setFixedHeight(self.table.horizontalHeader().height() + rows + 2 * self.table.frameWidth() + 2)

    def _loaded(self, summary) -> None:
        self.statusMessage.emit(f"dataset {summary.name} loaded from {summary.root}")
        self.loaded.emit(summary)

    def _error_reported(self, message: str) -> None:
        self.banner.show_error(message)
        self.errorOccurred.emit(message)

    # -- identities and their images ---------------------------------------------------------------------
    def _draw_group(self, group: str) -> None:
        self.group.blockSignals(True)   # drawing the state is no choice by hand
        self.group.setCurrentText(group)
        self.group.blockSignals(False)

    def _draw_identities(self, keys) -> None:
        self.identities.blockSignals(True)   # the state says which identity is browsed
        self.identities.clear()
        summary = self.state.summary
        for key in keys:
            item = QListWidgetItem(summary.identity_label(key))
            item.setData(Qt.ItemDataRole.UserRole, key)
            self.identities.addItem(item)
        self.identities.blockSignals(False)
        self._draw_identity(self.state.identity)

    def _draw_identity(self, key) -> None:
        row = self.state.identities.index(key) if key in self.state.identities else -1
        if row >= 0 and self.identities.currentRow() != row:
            self.identities.setCurrentRow(row)
        self.grid_title.setText(f"<b>{self.state.identity_label()}</b> — orange frame: occluded" if key else "")

    def _identity_changed(self, key) -> None:
        """Another identity browsed: select it, title the grid and load its thumbnails in a worker."""
        self._draw_identity(key)
        load = self.state.samples_load()
        if load is not None:
            ticket, key, samples = load
            self.workers.start(load_thumbnails, [s.path for s in samples],
                               on_result=lambda images: self.state.show_samples(ticket, key, samples, images),
                               on_error=self.state.report_error)

    def _draw_samples(self, shown) -> None:
        if shown is None:
            self.grid.show_message(NO_IDENTITY)
            return
        self.grid.show_samples(shown.samples, shown.images, marked=self.state.image)
        self.samplesShown.emit(shown.key)
