"""Dataset explorer: what a ReID dataset holds, split by split.

Pick a registered dataset loader and a folder (the workspace's ``data/*`` folders are offered, the
first one that a loader recognises opens by default): the table gives identities, images, cameras,
images per identity and occluded images per split; the bar charts the distribution of images per
identity; the grid an identity's images (occluded ones outlined, SynthPed-Occluded). Loading and
thumbnails run in workers; a dataset that cannot be read shows its error in place of the data.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QFileDialog, QHeaderView, QLabel, QListWidget,
                               QListWidgetItem, QPushButton, QSplitter, QStackedWidget, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from app.services import core_client
from app.services.workers import WorkerPool
from app.state.dataset_summary import DatasetSummary, guess_dataset_name
from app.widgets.dataset_views import SampleGridWidget, SplitHistogramsWidget, load_thumbnails
from app.widgets.error_banner import ErrorBanner
from app.widgets.layout import hbox, vbox, widget_of

HEADERS = ("split", "identities", "images", "cameras", "images per id (min / med / max)", "occluded")
GROUPS = {"all": None, "train identities": "train", "query + gallery identities": "test"}
NO_DATA = ("No dataset open. Pick a loader and a dataset folder above (the workspace's data/ folders are listed), "
           "then press Open.")
MESSAGE_STYLES = {"note": "color: #666; font-size: 11pt;", "error": "color: #8A1C12; font-size: 11pt;"}


class DatasetPanel(QWidget):
    errorOccurred = Signal(str)
    statusMessage = Signal(str)
    loaded = Signal(object)         # the DatasetSummary shown
    samplesShown = Signal(object)   # the identity key whose images are shown

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.workers = WorkerPool(self)
        self.summary: DatasetSummary | None = None
        self.workspace: Path | None = None
        self._token = 0          # the latest dataset load
        self._samples_token = 0  # the latest thumbnail load
        self._build()
        self.show_message(NO_DATA)

    def _build(self) -> None:
        self.banner = ErrorBanner()
        self.message = QLabel()
        self.message.setWordWrap(True)
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
        self.loader = QComboBox()
        self.loader.addItems(core_client.dataset_names())
        self.loader.setToolTip("the dataset loader (api.list_datasets)")
        self.folder = QComboBox()
        self.folder.setEditable(True)
        self.folder.setMinimumWidth(380)
        self.folder.activated.connect(lambda _: self._folder_picked())
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.open_button = QPushButton("Open")
        self.open_button.setDefault(True)
        self.open_button.clicked.connect(lambda: self.load(self.loader.currentText(), self.folder.currentText()))
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
        self.group.currentIndexChanged.connect(lambda _: self._fill_identities())
        self.identities = QListWidget()
        self.identities.currentItemChanged.connect(lambda item, _: self.show_identity(item.data(Qt.ItemDataRole.UserRole)
                                                                                      if item else None))
        self.grid = SampleGridWidget()
        self.grid_title = QLabel("")
        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.addWidget(widget_of(vbox(QLabel("<b>Identities</b>"), self.group, (self.identities, 1))))
        lower.addWidget(widget_of(vbox(self.grid_title, (self.grid, 1))))
        lower.setSizes([330, 1070])
        self.caption = QLabel("")
        return widget_of(vbox(self.caption, self.table, self.histograms, (lower, 1)))

    # -- workspace and folder choice ---------------------------------------------------------------------
    # -- the window's panel protocol (app/panels/registry.py) -------------------------------------------
    def workspace_changed(self, path, rows) -> None:
        self.set_workspace(path)

    def screenshot_wanted(self) -> bool:
        return True

    def screenshot_start(self, runs):
        return None   # the dataset loads on its own

    def set_workspace(self, workspace) -> None:
        """Offer the workspace's data folders; a different workspace clears the view and opens its first dataset."""
        path = Path(workspace) if workspace is not None else None
        if path == self.workspace:
            return
        self.workspace = path
        self.clear_view()
        folders = core_client.data_folders(path) if path is not None else []
        names = core_client.dataset_names()
        known = [(folder, guess_dataset_name(folder, names)) for folder in folders]
        known = [(folder, name) for folder, name in known if name is not None]
        self.folder.clear()
        for folder, _ in known:
            self.folder.addItem(str(folder))
        if known:
            self.loader.setCurrentText(known[0][1])
            self.load(known[0][1], known[0][0])

    def _folder_picked(self) -> None:
        name = guess_dataset_name(self.folder.currentText(), core_client.dataset_names())
        if name is not None:
            self.loader.setCurrentText(name)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Dataset folder", self.folder.currentText() or str(Path.home()))
        if folder:
            self.folder.setEditText(folder)
            self._folder_picked()

    # -- loading ------------------------------------------------------------------------------------------
    def clear_view(self) -> None:
        """Forget the dataset shown (loads still running are dropped when they arrive)."""
        self._token += 1
        self._samples_token += 1
        self.summary = None
        self.banner.hide()
        self.table.setRowCount(0)
        self.histograms.clear()
        self.identities.clear()
        self.grid.show_message("Pick an identity to see its images.")
        self.show_message(NO_DATA)

    def load(self, name: str, root) -> None:
        """Load dataset ``name`` from ``root`` in a worker; the view is cleared first."""
        self.clear_view()
        token = self._token
        self.show_message(f"Loading {name} from {root}…")
        self.folder.setEditText(str(root))
        self.workers.start(core_client.load_dataset_summary, name, str(root),
                           on_result=lambda summary: self._loaded(token, summary),
                           on_error=lambda message: self._failed(token, name, root, message))

    def _loaded(self, token: int, summary: DatasetSummary) -> None:
        if token != self._token:
            return
        self.summary = summary
        self.pages.setCurrentIndex(0)
        self.caption.setText(f"<b>{summary.name}</b> · {summary.root}" +
                             ("" if summary.has_captions else " · <span style='color:#777'>no captions / occlusion "
                                                              "records</span>"))
        rows = summary.table_rows()
        self.table.setRowCount(len(rows))
        for r, values in enumerate(rows):
            for c, value in enumerate(values):
                self.table.setItem(r, c, QTableWidgetItem(value))
        self._fit_table()
        self.histograms.show_stats(summary.stats)
        self._fill_identities()
        self.statusMessage.emit(f"dataset {summary.name} loaded from {summary.root}")
        self.loaded.emit(summary)

    def _fit_table(self) -> None:
        """As tall as its rows: no scroll bar for three splits."""
        rows = sum(self.table.rowHeight(r) for r in range(self.table.rowCount()))
        self.table.setFixedHeight(self.table.horizontalHeader().height() + rows + 2 * self.table.frameWidth() + 2)

    def _failed(self, token: int, name: str, root, message: str) -> None:
        if token != self._token:
            return
        text = f"Cannot open {name} at {root}: {message}"
        self.show_message(text, error=True)
        self.banner.show_error(text)
        self.errorOccurred.emit(text)

    def show_message(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(MESSAGE_STYLES["error" if error else "note"])
        self.pages.setCurrentWidget(self.message)

    # -- identities and their images ---------------------------------------------------------------------
    def _fill_identities(self) -> None:
        self.identities.clear()
        if self.summary is None:
            return
        for key in self.summary.identity_keys(GROUPS[self.group.currentText()]):
            item = QListWidgetItem(self.summary.identity_label(key))
            item.setData(Qt.ItemDataRole.UserRole, key)
            self.identities.addItem(item)
        if self.identities.count():
            self.identities.setCurrentRow(0)

    def show_identity(self, key) -> None:
        """Show identity ``key`` (``(group, pid)``): its thumbnails load in a worker."""
        if self.summary is None or key is None:
            return
        key = tuple(key)
        samples = self.summary.samples_of(key)
        self._samples_token += 1
        token = self._samples_token
        self.grid_title.setText(f"<b>{self.summary.identity_label(key)}</b> — orange frame: occluded")
        self.workers.start(load_thumbnails, [s.path for s in samples],
                           on_result=lambda images: self._thumbnails_ready(token, key, samples, images),
                           on_error=self.banner.show_error)

    def _thumbnails_ready(self, token: int, key, samples, images) -> None:
        if token == self._samples_token:
            self.grid.show_samples(samples, images)
            self.samplesShown.emit(key)

    def busy(self) -> bool:
        return self.workers.busy
