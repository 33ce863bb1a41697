"""Thumbnail tiles with a coloured border and a caption, and a horizontal strip of them (the
retrieval browser's ranked list: green = same identity, red = different, grey hatched = junk)."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPainter, QPen
from PySide6.QtWidgets import QHBoxLayout, QLabel, QScrollArea, QSizePolicy, QVBoxLayout, QWidget

from app.widgets.images import load_pixmap

KIND_COLORS = {"same": "#1E9E3A", "different": "#D62728", "junk": "#9A9A9A", "query": "#1F5FBF"}
KIND_TEXT = {"same": "same identity", "different": "different identity", "junk": "junk (same id & camera: ignored)",
             "query": "query"}


@dataclass(frozen=True)
class TileSpec:
    path: str
    kind: str            # same | different | junk | query
    caption: str
    badge: str = ""      # e.g. the rank, drawn in the top-left corner
    tooltip: str = ""


class ThumbnailTile(QWidget):
    """An image with a 4-px border in its kind's colour; junk tiles are hatched."""

    clicked = Signal(str)
    BORDER = 4

    def __init__(self, spec: TileSpec, image_size: QSize, parent=None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.pixmap = load_pixmap(spec.path, image_size)
        b = self.BORDER
        self.setFixedSize(self.pixmap.width() + 2 * b, self.pixmap.height() + 2 * b)
        self.setToolTip(spec.tooltip or spec.path)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    @property
    def border_color(self) -> str:
        return KIND_COLORS.get(self.spec.kind, "#444444")

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt API)
        painter = QPainter(self)
        b = self.BORDER
        painter.fillRect(self.rect(), QColor(self.border_color))
        painter.drawPixmap(b, b, self.pixmap)
        if self.spec.kind == "junk":
            painter.fillRect(QRect(b, b, self.pixmap.width(), self.pixmap.height()),
                             QBrush(QColor(80, 80, 80, 150), Qt.BrushStyle.BDiagPattern))
        if self.spec.badge:
            painter.setPen(QPen(QColor("white")))
            font = painter.font()
            font.setBold(True)
            painter.setFont(font)
            metrics = painter.fontMetrics()
            box = QRect(0, 0, metrics.horizontalAdvance(self.spec.badge) + 8, metrics.height() + 2)
            painter.fillRect(box, QColor(self.border_color))
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, self.spec.badge)
        painter.end()

    def mousePressEvent(self, event) -> None:  # noqa: N802
        self.clicked.emit(self.spec.path)
        super().mousePressEvent(event)


class CaptionedTile(QWidget):
    """A tile with its caption centred underneath."""

    def __init__(self, spec: TileSpec, image_size: QSize, parent=None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        self.tile = ThumbnailTile(spec, image_size)
        self.caption = QLabel(spec.caption)
        self.caption.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.caption.setStyleSheet("font-size: 9pt;")
        layout.addWidget(self.tile, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.caption)


class ImageStripWidget(QScrollArea):
    """A horizontally scrolling row of captioned tiles."""

    tileClicked = Signal(str)

    def __init__(self, image_size: QSize = QSize(96, 192), empty_text: str = "", parent=None) -> None:
        super().__init__(parent)
        self.image_size = image_size
        self.setWidgetResizable(True)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(image_size.height() + 2 * ThumbnailTile.BORDER + 64)
        self.empty_text = empty_text
        self.tiles: list[CaptionedTile] = []
        self.set_tiles([])

    def set_tiles(self, specs: list[TileSpec]) -> None:
        holder = QWidget()
        row = QHBoxLayout(holder)
        row.setContentsMargins(4, 4, 4, 4)
        row.setSpacing(6)
        self.tiles = []
        if not specs and self.empty_text:
            label = QLabel(self.empty_text)
            label.setStyleSheet("color: #777;")
            row.addWidget(label)
        for spec in specs:
            tile = CaptionedTile(spec, self.image_size)
            tile.tile.clicked.connect(self.tileClicked)
            self.tiles.append(tile)
            row.addWidget(tile)
        row.addStretch(1)
        self.setWidget(holder)

    def border_colors(self) -> list[str]:
        return [tile.tile.border_color for tile in self.tiles]


def legend_html() -> str:
    """A one-line colour legend for the strip."""
    parts = [f"<span style='color:{KIND_COLORS[k]}; font-weight:bold'>■</span> {KIND_TEXT[k]}"
             for k in ("same", "different", "junk")]
    return " &nbsp; ".join(parts)
