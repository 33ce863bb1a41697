"""The query list's views bar: saved views (choose, save, delete), export of the listed queries, and the
chip of a selection made in another panel ("selection from Modality gap: 37 images ×").

Only widgets and signals: the panel keeps the views (:mod:`app.state.saved_views`) and does the work."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QLabel, QPushButton, QWidget

from app.widgets.layout import STRETCH, hbox, vbox

NO_VIEW = "—"


class QueryViewsBar(QWidget):
    viewChosen = Signal(str)
    saveClicked = Signal()
    deleteClicked = Signal(str)
    exportClicked = Signal()
    selectionCleared = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.views = QComboBox()
        self.views.setMinimumContentsLength(12)
        self.views.setToolTip("Saved views: a filter (with the attribute and tag criteria) and a sort, kept in the "
                              "workspace; choose one to apply it")
        self.save_button = QPushButton("Save view…")
        self.save_button.setToolTip("Keep the current filters and sort under a name (WORKSPACE/studio/views.json)")
        self.delete_button = QPushButton("Delete")
        self.delete_button.setToolTip("Delete the saved view chosen")
        self.export_button = QPushButton("Export queries…")
        self.export_button.setToolTip("The listed queries, in the order shown, with AP, first hit, ΔAP and tags: "
                                      "CSV or JSON by the file's extension")
        self.chip = QPushButton("")
        self.chip.setFlat(True)
        self.chip.setStyleSheet("QPushButton { background: #E8F0FE; border: 1px solid #9DB7E8; border-radius: 9px; "
                                "padding: 1px 8px; color: #1A3D7C; }")
        self.chip.setToolTip("Only the images selected in another panel are listed: click to list every query again")
        self.chip.clicked.connect(self.selectionCleared)
        self.chip.hide()
        self.views.activated.connect(self._chosen)
        self.save_button.clicked.connect(self.saveClicked)
        self.delete_button.clicked.connect(lambda: self.deleteClicked.emit(self.current_view()))
        self.export_button.clicked.connect(self.exportClicked)
        self.set_views([])
        self.setLayout(vbox(hbox(QLabel("View"), (self.views, 1), self.save_button, self.delete_button, 8,
                                 self.export_button),
                            hbox(self.chip, STRETCH)))

    def _chosen(self, index: int) -> None:
        name = self.views.itemData(index)
        self.delete_button.setEnabled(bool(name))
        if name:
            self.viewChosen.emit(name)

    def current_view(self) -> str:
        return self.views.currentData() or ""

    def set_views(self, names, current: str = "") -> None:
        self.views.blockSignals(True)
        self.views.clear()
        self.views.addItem(NO_VIEW if names else "no saved views", "")
        for name in names:
            self.views.addItem(name, name)
        self.views.setCurrentIndex(max(self.views.findData(current), 0) if current else 0)
        self.views.blockSignals(False)
        self.delete_button.setEnabled(bool(self.current_view()))

    def set_available(self, available: bool, reason: str = "") -> None:
        """Views are kept in the workspace: without one (or with an unreadable views.json) they are off."""
        for widget in (self.views, self.save_button, self.delete_button):
            widget.setEnabled(available)
        self.save_button.setToolTip("Keep the current filters and sort under a name (WORKSPACE/studio/views.json)"
                                    if available else f"Saved views are off: {reason}")
        if available:
            self.delete_button.setEnabled(bool(self.current_view()))

    def show_selection(self, text: str | None) -> None:
        """The chip of another panel's selection (None: hidden)."""
        self.chip.setText(f"{text}  ×" if text else "")
        self.chip.setVisible(bool(text))
