"""The Saliency panel's image list (the grid's rows), drawn from a :class:`app.state.saliency.SaliencyState`:
it lists ``state.inputs.images`` with a thumbnail each; clearing it or removing the selected images is
written to the state."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QListWidget, QListWidgetItem

from app.widgets.images import load_pixmap

ICON_SIZE = QSize(24, 48)


class ImageListWidget(QListWidget):
    def __init__(self, state, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.setIconSize(ICON_SIZE)
        self.setMinimumHeight(120)
        for signal in (state.reset, state.inputs_changed):
            signal.connect(self._draw)
        self._draw()

    def paths(self) -> list[str]:
        return [self.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.count())]

    def _draw(self, *_) -> None:
        images = list(self.state.inputs.images)
        if self.paths() == images:
            return
        super().clear()
        for path in images:
            item = QListWidgetItem(QIcon(load_pixmap(path, ICON_SIZE)), Path(path).name)
            item.setData(Qt.ItemDataRole.UserRole, str(path))
            item.setToolTip(str(path))
            self.addItem(item)

    def clear(self) -> None:
        """Clear the list (in the state: the list follows)."""
        self.state.set_images([])

    def remove_selected(self) -> None:
        self.state.remove_images(sorted(self.row(item) for item in self.selectedItems()))
