"""The saliency grid: rows = images, columns = runs, one shared colour scale with its colour bar."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QLinearGradient, QPainter, QPixmap
from PySide6.QtWidgets import QGridLayout, QLabel, QScrollArea, QSizePolicy, QVBoxLayout, QWidget

from app.widgets.images import jet_table, load_pixmap, overlay, qimage_from_array

FALLBACK_FOOTNOTE = ("† no text prototype for this identity (query/gallery identities are not training identities): "
                     "the nearest prototype was the target — choose the pair target to explain a query–gallery "
                     "match instead; hover a cell for details")


class ColorBarWidget(QWidget):
    """A vertical jet colour bar labelled with the shared range."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.vmin, self.vmax = 0.0, 1.0
        self.setFixedWidth(64)
        self.setMinimumHeight(160)
        self.setToolTip("Grad-CAM activation, one scale shared by every cell")

    def set_range(self, vmin: float, vmax: float) -> None:
        self.vmin, self.vmax = vmin, vmax
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        metrics = painter.fontMetrics()
        bar = QRect(6, metrics.height(), 16, self.height() - 2 * metrics.height())
        gradient = QLinearGradient(0, bar.bottom(), 0, bar.top())
        table = jet_table()
        for i in range(0, 256, 15):
            gradient.setColorAt(i / 255, QColor(*table[i]))
        gradient.setColorAt(1.0, QColor(*table[255]))
        painter.fillRect(bar, gradient)
        painter.setPen(QColor("#333333"))
        painter.drawRect(bar)
        for fraction in (0.0, 0.25, 0.5, 0.75, 1.0):
            y = int(bar.bottom() - fraction * bar.height())
            value = self.vmin + fraction * (self.vmax - self.vmin)
            painter.drawLine(bar.right(), y, bar.right() + 4, y)
            painter.drawText(bar.right() + 7, y + metrics.ascent() // 2 - 1, f"{value:.2f}")
        painter.end()


class SaliencyGridWidget(QScrollArea):
    """Shows an ``app.state.saliency.SaliencyGrid``: a header row of run names, a first column with
    the plain image (and what it was explained by), then one overlay per run with its person share
    underneath. What † means is shown by the panel, outside the scrolling grid."""

    def __init__(self, cell_size: QSize = QSize(96, 192), parent=None) -> None:
        super().__init__(parent)
        self.cell_size = cell_size
        self.setWidgetResizable(True)
        self.cell_labels: dict[tuple[int, int], QLabel] = {}
        self.show_message("")

    def show_message(self, text: str) -> None:
        label = QLabel(text)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setWordWrap(True)
        label.setStyleSheet("color: #666; font-size: 11pt;")
        self.cell_labels = {}
        self.setWidget(label)

    def show_grid(self, grid, run_titles: dict[str, str] | None = None) -> None:
        holder = QWidget()
        layout = QGridLayout(holder)
        layout.setHorizontalSpacing(10)
        layout.setVerticalSpacing(4)
        self.cell_labels = {}
        titles = run_titles or {}
        layout.addWidget(self._header("image"), 0, 0)
        for col, run in enumerate(grid.run_names, start=1):
            share = grid.mean_person_share(col - 1)
            text = titles.get(run, run) + (f"<br><span style='font-weight:normal'>mean person share {share:.2f}</span>"
                                           if share is not None else "")
            header = self._header(text)
            header.setToolTip(run)   # the header may show only the part of the name that differs
            layout.addWidget(header, 0, col)
        for row, path in enumerate(grid.image_paths):
            caption = "\n".join(part for part in (_short_name(path), _short_name(grid.row_target(row), 26)) if part)
            layout.addWidget(self._image_cell(load_pixmap(path, self.cell_size), caption), 1 + row, 0)
            for col in range(len(grid.run_names)):
                result = grid.cell(row, col)
                pixmap = self._overlay_pixmap(result, grid.vmin, grid.vmax) if result is not None else None
                cell = self._image_cell(pixmap, grid.caption(row, col))
                note = grid.note(row, col)
                cell.setToolTip(f"{result.path}\n{note}" if result is not None and note else (result.path if result else ""))
                self.cell_labels[(row, col)] = cell
                layout.addWidget(cell, 1 + row, 1 + col)
        bar = ColorBarWidget()
        bar.set_range(grid.vmin, grid.vmax)
        layout.addWidget(bar, 1, len(grid.run_names) + 1, max(1, len(grid.image_paths)), 1)
        layout.setColumnStretch(len(grid.run_names) + 2, 1)
        layout.setRowStretch(len(grid.image_paths) + 2, 1)
        self.setWidget(holder)

    def _overlay_pixmap(self, result, vmin: float, vmax: float) -> QPixmap:
        image = qimage_from_array(overlay(result.image, result.cam, vmin, vmax))
        return QPixmap.fromImage(image.scaled(self.cell_size, Qt.AspectRatioMode.KeepAspectRatio,
                                              Qt.TransformationMode.SmoothTransformation))

    @staticmethod
    def _header(text: str) -> QLabel:
        label = QLabel(f"<b>{text}</b>")
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        return label

    @staticmethod
    def _image_cell(pixmap: QPixmap | None, caption: str) -> QWidget:
        if pixmap is not None:
            return _CaptionedImage(pixmap, caption)
        label = QLabel(caption)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        return label


def _short_name(path: str, limit: int = 22) -> str:
    name = str(path).rsplit("/", 1)[-1]
    return name if len(name) <= limit else name[:limit - 1] + "…"


class _CaptionedImage(QWidget):
    """An image with a small caption under it."""

    def __init__(self, pixmap: QPixmap, caption: str) -> None:
        super().__init__()
        self.caption = caption
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        image = QLabel()
        image.setPixmap(pixmap)
        image.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        text = QLabel(caption)
        text.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        text.setStyleSheet("color: #333;")
        layout.addWidget(image)
        layout.addWidget(text)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
