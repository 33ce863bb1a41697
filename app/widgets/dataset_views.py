"""Widgets of the Dataset explorer: per-split histograms of images per identity, and an identity's
sample grid (occluded images outlined in orange with the hidden share of the body; the image another tab
asked to show framed in blue).

Thumbnails are decoded and scaled by :func:`load_thumbnails` in a worker (``QImage`` is safe off the
GUI thread); the grid only turns them into pixmaps.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from app.state.dataset_summary import SPLITS, SampleInfo
from app.widgets.images import missing_pixmap
from app.widgets.plotting import PALETTE, make_plot, pg

THUMB = QSize(64, 128)
GRID_COLUMNS = 10
OCCLUDED_STYLE = "border: 3px solid #E69F00; background: #FFF4E0;"
CLEAN_STYLE = "border: 3px solid transparent;"
MARKED_STYLE = "border: 3px solid #1F5FBF; background: #E3ECFA;"


def load_thumbnails(paths, size: QSize = THUMB) -> list[QImage]:
    """Scaled images (a null QImage for an unreadable file); runs in a worker thread."""
    out = []
    for path in paths:
        image = QImage(str(path))
        out.append(image if image.isNull() else image.scaled(size, Qt.AspectRatioMode.KeepAspectRatio,
                                                              Qt.TransformationMode.SmoothTransformation))
    return out


class SplitHistogramsWidget(QWidget):
    """One small bar chart per split: how many identities have n images."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.plots = {}
        for number, split in enumerate(SPLITS):
            plot = make_plot(f"{split}: images per identity", "images", "identities", legend=False)
            plot.setMinimumHeight(140)
            plot.setMaximumHeight(190)
            plot.getPlotItem().setMouseEnabled(x=False, y=False)
            self.plots[split] = plot
            row.addWidget(plot, 1)

    def show_stats(self, stats: dict) -> None:
        for number, split in enumerate(SPLITS):
            item = self.plots[split].getPlotItem()
            item.clear()
            centres, counts = stats[split].histogram() if split in stats else ([], [])
            if len(centres):
                step = float(centres[1] - centres[0]) if len(centres) > 1 else 1.0
                item.addItem(pg.BarGraphItem(x=centres, height=counts, width=0.8 * step, brush=PALETTE[number]))
                item.setXRange(float(centres[0]) - step, float(centres[-1]) + step, padding=0)
                item.setYRange(0, float(max(counts)) * 1.1, padding=0)
                if step == 1.0:   # one bar per count: integer ticks
                    item.getAxis("bottom").setTicks([[(float(c), str(int(c))) for c in centres]])

    def clear(self) -> None:
        for plot in self.plots.values():
            plot.getPlotItem().clear()


class SampleTile(QWidget):
    """One image of the grid with split, camera and occlusion under it; framed when marked."""

    def __init__(self, sample: SampleInfo, image: QImage, parent=None) -> None:
        super().__init__(parent)
        self.sample = sample
        self.picture = QLabel()
        self.picture.setPixmap(missing_pixmap(THUMB) if image.isNull() else QPixmap.fromImage(image))
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        occluded = f"<br><span style='color:#B35C00'>occluded {100 * sample.occlusion:.0f} %</span>" \
            if sample.occluded else ""
        caption = QLabel(f"<span style='font-size:8pt'>{sample.split} · cam {sample.camid + 1}{occluded}</span>")
        caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(1)
        column.addWidget(self.picture)
        column.addWidget(caption)
        self.setToolTip("\n".join(part for part in (Path(sample.path).name, sample.caption) if part))
        self.setProperty("occluded", sample.occluded)
        self.set_marked(False)

    @property
    def marked(self) -> bool:
        return bool(self.property("marked"))

    def set_marked(self, marked: bool) -> None:
        self.setProperty("marked", marked)
        self.picture.setStyleSheet(MARKED_STYLE if marked else OCCLUDED_STYLE if self.sample.occluded else CLEAN_STYLE)


class SampleGridWidget(QScrollArea):
    """An identity's images in a grid, each with split, camera and occlusion under it; one of them may be
    marked (framed in blue and scrolled into view)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.tiles: list[SampleTile] = []
        self.marked_path: str | None = None
        self.show_message("Pick an identity to see its images.")

    def show_message(self, text: str) -> None:
        self.tiles = []
        label = QLabel(text)
        label.setWordWrap(True)
        label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        label.setStyleSheet("color: #666; padding: 8px;")
        self.setWidget(label)

    def show_samples(self, samples: list[SampleInfo], images: list[QImage], marked: str | None = None) -> None:
        holder = QWidget()
        grid = QGridLayout(holder)
        grid.setContentsMargins(4, 4, 4, 4)
        grid.setSpacing(6)
        self.tiles = []
        for number, (sample, image) in enumerate(zip(samples, images)):
            self.tiles.append(SampleTile(sample, image))
            grid.addWidget(self.tiles[-1], number // GRID_COLUMNS, number % GRID_COLUMNS)
        grid.setRowStretch(grid.rowCount(), 1)
        grid.setColumnStretch(GRID_COLUMNS, 1)
        self.setWidget(holder)
        self.mark(marked)

    def mark(self, path: str | None) -> bool:
        """Frame the image at ``path`` (None: none) and scroll it into view; True when the grid shows it."""
        self.marked_path = str(path) if path is not None else None
        for tile in self.tiles:
            tile.set_marked(tile.sample.path == self.marked_path)
            if tile.marked:
                self.ensureWidgetVisible(tile)
        return any(tile.marked for tile in self.tiles)

    def marked_tiles(self) -> list[SampleTile]:
        return [tile for tile in self.tiles if tile.marked]
