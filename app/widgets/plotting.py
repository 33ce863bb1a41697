"""pyqtgraph, configured once for the studio (white background, antialiasing, a shared palette).

Import ``pg`` from here rather than ``pyqtgraph`` directly, so every plot shares the configuration.
"""

from __future__ import annotations

import pyqtgraph as pg

pg.setConfigOptions(antialias=True, background="w", foreground="#333333")

# Colour-blind-safe palette (Okabe–Ito) for loss curves; fixed colours for the meanings below.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")
IMAGE_COLOR = "#D62728"   # modality gap: image points red
TEXT_COLOR = "#1F77B4"    # text points blue
PAIR_COLOR = (150, 150, 150, 90)


def make_plot(title: str, x_label: str, y_label: str, legend: bool = True) -> pg.PlotWidget:
    """A labelled plot with a grid and (optionally) a legend in the top-right corner."""
    plot = pg.PlotWidget()
    item = plot.getPlotItem()
    item.setTitle(f"<span style='font-size:11pt'>{title}</span>")
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


__all__ = ["IMAGE_COLOR", "PAIR_COLOR", "PALETTE", "TEXT_COLOR", "make_plot", "pen", "pg"]
