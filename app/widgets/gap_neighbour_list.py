"""The selected Modality-gap point's nearest neighbours in the embedding, as a small table.

One row per :class:`app.state.gap_neighbours.Neighbour`: the image's thumbnail (a text point shows the
image it is paired with; decoded off the GUI thread by the shared thumbnail cache), the point's modality,
identity, cosine distance and file name. Clicking a row emits ``neighbourChosen(kind, index)``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from app.widgets.gallery_thumbnails import shared_thumbnails

THUMB = QSize(24, 48)
HEADERS = ("", "point", "identity", "cos. distance", "file")


class NeighbourList(QTableWidget):
    neighbourChosen = Signal(str, int)   # kind (image | text), pair index

    def __init__(self, parent=None) -> None:
        super().__init__(0, len(HEADERS), parent)
        self.setHorizontalHeaderLabels(HEADERS)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(THUMB.height() + 4)
        self.setIconSize(THUMB)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.horizontalHeader()
        for column in range(len(HEADERS) - 1):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(HEADERS) - 1, QHeaderView.ResizeMode.Stretch)
        self.setToolTip("the 10 nearest points by cosine distance in the embedding itself (not in the 2-D "
                        "projection); click a row to select that point")
        self.neighbours: tuple = ()
        self.cellClicked.connect(self._clicked)
        self.thumbnails = shared_thumbnails()
        self.thumbnails.loaded.connect(self._thumbnails_loaded)   # a bound slot: gone with this widget

    def show_neighbours(self, neighbours) -> None:
        self.neighbours = tuple(neighbours)
        self.setRowCount(len(self.neighbours))
        for row, item in enumerate(self.neighbours):
            cells = ("", item.kind, str(item.identity), f"{item.distance:.3f}", Path(item.path).name)
            for column, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                if column == len(cells) - 1:
                    cell.setToolTip(item.path)
                if column in (2, 3):
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.setItem(row, column, cell)
        self.thumbnails.request([n.path for n in self.neighbours if n.path], THUMB)
        self._draw_icons()

    def _thumbnails_loaded(self, _keys) -> None:
        self._draw_icons()

    def _draw_icons(self) -> None:
        for row, item in enumerate(self.neighbours):
            image = self.thumbnails.get(item.path, THUMB) if item.path else None
            cell = self.item(row, 0)
            if cell is not None and image is not None and not image.isNull():
                cell.setIcon(QIcon(QPixmap.fromImage(image)))

    def _clicked(self, row: int, _column: int) -> None:
        if 0 <= row < len(self.neighbours):
            self.neighbourChosen.emit(self.neighbours[row].kind, self.neighbours[row].index)
