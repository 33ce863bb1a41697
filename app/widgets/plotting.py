"""pyqtgraph, configured once for the studio (white background, antialiasing, a shared palette).

Import ``pg`` from here rather than ``pyqtgraph`` directly, so every plot shares the configuration.
"""

from __future__ import annotations

import html

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics

pg.setConfigOptions(antialias=True, background="w", foreground="#333333")

# Colour-blind-safe palette (Okabe–Ito) for loss curves; fixed colours for the meanings below.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")
IMAGE_COLOR = "#D62728"   # modality gap: image points red
TEXT_COLOR = "#1F77B4"    # text points blue
PAIR_COLOR = (150, 150, 150, 90)
TITLE_POINT_SIZE = 11
TITLE_MARGIN_PX = 24      # the title label's own margins, with room to spare


class ElidedTitlePlot(pg.PlotWidget):
    """A plot whose title is elided in the middle to the plot's width, the whole title in its tooltip.

    pyqtgraph gives the title label the width of its text as a minimum: a title wider than the plot
    widens the plot item beyond the widget, which then cuts off the plot's right side (and the points
    there) along with the end of the title."""

    title = ""   # the whole title

    def __init__(self, title: str = "") -> None:
        super().__init__()
        self.set_title(title)

    def set_title(self, title: str) -> None:
        self.title = str(title)
        self._fit_title()

    def shown_title(self) -> str:
        """The title as drawn at the plot's present width."""
        font = QFont(self.font())
        font.setPointSizeF(TITLE_POINT_SIZE)
        available = max(0, self.width() - TITLE_MARGIN_PX)
        return QFontMetrics(font).elidedText(self.title, Qt.TextElideMode.ElideMiddle, available)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        self._fit_title()

    def _fit_title(self) -> None:
        item = self.getPlotItem()
        if item is None:   # pyqtgraph resizes the view before its plot item exists
            return
        shown = self.shown_title()
        item.setTitle(f"<span style='font-size:{TITLE_POINT_SIZE}pt'>{html.escape(shown)}</span>")
        item.titleLabel.setToolTip(self.title if shown != self.title else "")


def make_plot(title: str, x_label: str, y_label: str, legend: bool = True,
              elide_title: bool = False) -> pg.PlotWidget:
    """A labelled plot with a grid and (optionally) a legend in the top-right corner. ``elide_title``:
    a title that may be long (a run's name) is elided to the plot's width (:class:`ElidedTitlePlot`)."""
    plot = ElidedTitlePlot(title) if elide_title else pg.PlotWidget()
    item = plot.getPlotItem()
    if not elide_title:
        item.setTitle(f"<span style='font-size:{TITLE_POINT_SIZE}pt'>{title}</span>")
    item.setLabel("bottom", x_label)
    item.setLabel("left", y_label)
    item.showGrid(x=True, y=True, alpha=0.25)
    item.setMenuEnabled(False)
    if legend:
        legend = item.addLegend(offset=(-8, 8), labelTextSize="9pt", colCount=3, brush=pg.mkBrush(255, 255, 255, 170),
                                pen=pg.mkPen("#CCCCCC"))
        legend.setVisible(False)   # shown once it has entries (an empty legend draws a stray box)
    plot.setMinimumHeight(160)
    return plot


def pen(index: int, width: float = 1.6):
    return pg.mkPen(PALETTE[index % len(PALETTE)], width=width)


__all__ = ["IMAGE_COLOR", "PAIR_COLOR", "PALETTE", "TEXT_COLOR", "ElidedTitlePlot", "make_plot", "pen", "pg"]
