"""Modality-gap scatter plots: one per run, image points red, text points blue, a grey line per pair."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from app.widgets.plotting import IMAGE_COLOR, PAIR_COLOR, TEXT_COLOR, make_plot, pg


def pair_segments(image_xy: np.ndarray, text_xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x and y arrays [img0, txt0, img1, txt1, …] for a PlotDataItem with ``connect="pairs"``."""
    points = np.empty((2 * len(image_xy), 2), dtype=np.float64)
    points[0::2] = image_xy
    points[1::2] = text_xy
    return points[:, 0], points[:, 1]


class GapPlotsWidget(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.row = QHBoxLayout(self)
        self.row.setContentsMargins(0, 0, 0, 0)
        self.plots: list[pg.PlotWidget] = []
        self.show_message("")

    def _reset(self) -> None:
        while self.row.count():
            widget = self.row.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        self.plots = []

    def show_message(self, text: str) -> None:
        self._reset()
        label = QLabel(text)
        label.setWordWrap(True)
        label.setStyleSheet("color: #666; font-size: 11pt;")
        self.row.addWidget(label)

    def show_results(self, results, titles: dict[str, str] | None = None) -> None:
        self._reset()
        for result in results:
            title = (titles or {}).get(result.run, result.run)
            plot = make_plot(title, "", "", legend=False)   # one shared legend above the plots
            item = plot.getPlotItem()
            item.hideAxis("bottom")
            item.hideAxis("left")
            item.setAspectLocked(True)
            image_xy, text_xy = np.asarray(result.image_xy), np.asarray(result.text_xy)
            x, y = pair_segments(image_xy, text_xy)
            item.plot(x, y, pen=pg.mkPen(PAIR_COLOR, width=1), connect="pairs", name="pair")
            item.addItem(pg.ScatterPlotItem(image_xy[:, 0], image_xy[:, 1], size=7, brush=pg.mkBrush(IMAGE_COLOR),
                                            pen=pg.mkPen("w", width=0.5), name="image"))
            item.addItem(pg.ScatterPlotItem(text_xy[:, 0], text_xy[:, 1], size=8, symbol="t", brush=pg.mkBrush(TEXT_COLOR),
                                            pen=pg.mkPen("w", width=0.5), name=f"text ({result.text_kind})"))
            self.plots.append(plot)
            self.row.addWidget(plot, 1)
