"""Thumbnail tiles with a coloured border and a caption, and a horizontal strip of them (the
retrieval browser's ranked list: green = same identity, red = different, grey hatched = junk).

A tile paints its image, border, rank badge and caption itself (one widget per tile). The strip
reuses its tiles from one query to the next and takes the images from the shared
:class:`app.widgets.gallery_thumbnails.ThumbnailCache`, which decodes them off the GUI thread: a query
switch only updates tiles and repaints. Two strips built with the same image size line up column for
column (the side-by-side comparison); :meth:`ImageStripWidget.highlight` rings one gallery image.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QHBoxLayout, QLabel, QScrollArea, QSizePolicy, QStyle, QWidget

from app.widgets.gallery_thumbnails import ThumbnailCache, shared_thumbnails

KIND_COLORS = {"same": "#1E9E3A", "different": "#D62728", "junk": "#9A9A9A", "query": "#1F5FBF"}
KIND_TEXT = {"same": "same identity", "different": "different identity",
             "junk": "junk (same id & camera: ignored, no rank)", "query": "query"}
HIGHLIGHT = "#F2A900"      # the ring around the gallery image chosen in either strip
SPACING = 6


@dataclass(frozen=True)
class TileSpec:
    path: str
    kind: str            # same | different | junk | query
    caption: str
    badge: str = ""      # e.g. the rank, drawn in the top-left corner
    tooltip: str = ""
    payload: object = field(default=None, compare=False)   # handed back on a click (e.g. a GalleryTile)


def caption_font() -> QFont:
    font = QFont()
    font.setPointSizeF(8.5)
    return font


def tile_size(image_size: QSize, caption_lines: int) -> QSize:
    """The outer size of a tile: image, border, highlight ring and caption lines."""
    pad = 2 * (ThumbnailTile.BORDER + ThumbnailTile.RING)
    caption = caption_lines * QFontMetrics(caption_font()).lineSpacing() + 4 if caption_lines else 0
    return QSize(image_size.width() + pad, image_size.height() + pad + caption)


class ThumbnailTile(QWidget):
    """An image with a 4-px border in its kind's colour (junk tiles hatched), a badge and a caption
    painted underneath; a highlight ring when chosen."""

    clicked = Signal(object)   # the TileSpec
    BORDER = 4
    RING = 3

    def __init__(self, image_size: QSize, caption_lines: int = 2, cache: ThumbnailCache | None = None,
                 parent=None) -> None:
        super().__init__(parent)
        self.image_size = QSize(image_size)
        self.cache = cache or shared_thumbnails()
        self.spec: TileSpec | None = None
        self.image = None
        self.highlighted = False
        self.caption_font = caption_font()
        size = tile_size(image_size, caption_lines)
        self.caption_height = size.height() - image_size.height() - 2 * (self.BORDER + self.RING)
        self.setFixedSize(size)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def set_spec(self, spec: TileSpec) -> None:
        self.spec = spec
        self.image = self.cache.get(spec.path, self.image_size)
        self.setToolTip(spec.tooltip or spec.path)
        self.update()

    def follow_cache(self) -> None:
        """Repaint when this tile's image arrives (for a tile outside a strip; a strip tells its own tiles)."""
        self.cache.loaded.connect(self._images_arrived)

    def _images_arrived(self, keys) -> None:
        if self.spec is not None and any(key[0] == self.spec.path for key in keys):
            self.refresh_image()

    def refresh_image(self) -> None:
        if self.spec is not None:
            self.image = self.cache.get(self.spec.path, self.image_size)
            self.update()

    def set_highlighted(self, on: bool) -> None:
        if on != self.highlighted:
            self.highlighted = on
            self.update()

    @property
    def border_color(self) -> str:
        return KIND_COLORS.get(self.spec.kind if self.spec else "", "#444444")

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt API)
        painter = QPainter(self)
        ring, border = self.RING, self.BORDER
        frame = QRect(ring, ring, self.image_size.width() + 2 * border, self.image_size.height() + 2 * border)
        if self.highlighted:
            painter.fillRect(frame.adjusted(-ring, -ring, ring, ring), QColor(HIGHLIGHT))
        painter.fillRect(frame, QColor(self.border_color))
        inner = frame.adjusted(border, border, -border, -border)
        self._paint_image(painter, inner)
        if self.spec is not None and self.spec.kind == "junk":
            painter.fillRect(inner, QBrush(QColor(80, 80, 80, 150), Qt.BrushStyle.BDiagPattern))
        if self.spec is not None and self.spec.badge:
            self._paint_badge(painter, frame)
        if self.caption_height and self.spec is not None:
            painter.setFont(self.caption_font)
            painter.setPen(QColor("#222222"))
            painter.drawText(QRect(0, frame.bottom() + ring + 2, self.width(), self.caption_height),
                             Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, self.spec.caption)
        painter.end()

    def _paint_image(self, painter: QPainter, inner: QRect) -> None:
        painter.fillRect(inner, QColor("#EEEEEE"))
        if self.image is None:        # still decoding
            return
        if self.image.isNull():
            painter.setPen(QColor("#777777"))
            painter.drawText(inner, Qt.AlignmentFlag.AlignCenter, "missing")
            return
        x = inner.x() + (inner.width() - self.image.width()) // 2
        y = inner.y() + (inner.height() - self.image.height()) // 2
        painter.drawImage(x, y, self.image)

    def _paint_badge(self, painter: QPainter, frame: QRect) -> None:
        font = QFont(self.font())
        font.setBold(True)
        painter.setFont(font)
        metrics = painter.fontMetrics()
        box = QRect(frame.x(), frame.y(), metrics.horizontalAdvance(self.spec.badge) + 8, metrics.height() + 2)
        painter.fillRect(box, QColor(self.border_color))
        painter.setPen(QPen(QColor("white")))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, self.spec.badge)

    def mousePressEvent(self, event) -> None:  # noqa: N802
        if self.spec is not None:
            self.clicked.emit(self.spec)
        super().mousePressEvent(event)


class ImageStripWidget(QScrollArea):
    """A horizontally scrolling row of tiles, reused across :meth:`set_tiles` calls."""

    tileClicked = Signal(object)   # the clicked tile's TileSpec

    def __init__(self, image_size: QSize = QSize(96, 192), empty_text: str = "", caption_lines: int = 2,
                 cache: ThumbnailCache | None = None, parent=None) -> None:
        super().__init__(parent)
        self.image_size = QSize(image_size)
        self.caption_lines = caption_lines
        self.cache = cache or shared_thumbnails()
        self.cache.loaded.connect(self._images_arrived)
        self.setWidgetResizable(True)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.empty_text = empty_text
        self.empty_label = QLabel(empty_text)
        self.empty_label.setStyleSheet("color: #777;")
        holder = QWidget()
        self.row = QHBoxLayout(holder)
        self.row.setContentsMargins(2, 2, 2, 2)
        self.row.setSpacing(SPACING)
        self.row.addWidget(self.empty_label)
        self.row.addStretch(1)
        self.setWidget(holder)
        self._pool: list[ThumbnailTile] = []
        self.tiles: list[ThumbnailTile] = []    # the tiles shown, in order
        self.highlighted_path: str | None = None
        tile_height = tile_size(self.image_size, caption_lines).height()
        scrollbar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        self.setFixedHeight(tile_height + 4 + scrollbar + 2 * self.frameWidth())

    def set_tiles(self, specs: list[TileSpec]) -> None:
        while len(self._pool) < len(specs):
            tile = ThumbnailTile(self.image_size, self.caption_lines, self.cache)
            tile.clicked.connect(self.tileClicked)
            self.row.insertWidget(len(self._pool), tile)
            self._pool.append(tile)
        for tile, spec in zip(self._pool, specs):
            tile.set_spec(spec)
            tile.set_highlighted(spec.path == self.highlighted_path)
        for tile in self._pool[len(specs):]:
            if not tile.isHidden():
                tile.hide()
        for tile in self._pool[:len(specs)]:
            if tile.isHidden():
                tile.show()
        self.tiles = self._pool[:len(specs)]
        self.empty_label.setVisible(not specs and bool(self.empty_text))
        self.horizontalScrollBar().setValue(0)
        self.cache.request([spec.path for spec in specs], self.image_size)

    def set_empty_text(self, text: str) -> None:
        self.empty_text = text
        self.empty_label.setText(text)
        self.empty_label.setVisible(not self.tiles and bool(text))

    def highlight(self, path: str | None) -> bool:
        """Ring the tile(s) of this image (None: no ring); True when the strip shows the image."""
        self.highlighted_path = str(path) if path is not None else None
        for tile in self.tiles:
            tile.set_highlighted(tile.spec.path == self.highlighted_path)
        return any(tile.highlighted for tile in self.tiles)

    def highlighted_tiles(self) -> list[ThumbnailTile]:
        return [tile for tile in self.tiles if tile.highlighted]

    def _images_arrived(self, keys) -> None:
        size = (self.image_size.width(), self.image_size.height())
        arrived = {path for path, *key_size in keys if tuple(key_size) == size}
        for tile in self.tiles:
            if tile.spec.path in arrived:
                tile.refresh_image()

    def images_ready(self) -> bool:
        """Every tile shown has its thumbnail (decoded, or known to be missing)."""
        return all(tile.image is not None for tile in self.tiles)

    def border_colors(self) -> list[str]:
        return [tile.border_color for tile in self.tiles]

    def specs(self) -> list[TileSpec]:
        return [tile.spec for tile in self.tiles]


def legend_html() -> str:
    """A one-line colour legend for the strip."""
    parts = [f"<span style='color:{KIND_COLORS[k]}; font-weight:bold'>■</span> {KIND_TEXT[k]}"
             for k in ("same", "different", "junk")]
    parts.append(f"<span style='color:{HIGHLIGHT}; font-weight:bold'>■</span> clicked (ringed in every strip)")
    return " &nbsp; ".join(parts)
