"""What the Modality-gap plots draw over their points: marks and the lasso.

- :class:`PlotMarks`: rings over the points found by "find" (magenta), the lassoed image points (black)
  and the selected point (a thick orange ring), each a ring-only scatter item over the plot's points;
- :class:`LassoTool`: while on, a drag on the plot draws a free-form polygon (instead of panning) and
  hands its corners, in the plot's data coordinates, to a callback when the mouse is released; the
  polygon stays drawn until the next lasso or :meth:`LassoTool.clear`.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from app.widgets.plotting import pg

FOUND_COLOR, LASSO_COLOR, SELECTED_COLOR = "#C2188B", "#111111", "#F28E00"


def _ring(size: int, colour: str, width: float) -> pg.ScatterPlotItem:
    ring = pg.ScatterPlotItem(size=size, pen=pg.mkPen(colour, width=width), brush=None, hoverable=False)
    ring.setZValue(10)
    ring.setAcceptHoverEvents(False)
    ring.mouseClickEvent = lambda event: event.ignore()   # a click goes through to the point under the ring
    return ring


class PlotMarks:
    """The rings of one plot."""

    def __init__(self, item) -> None:
        self.found = _ring(15, FOUND_COLOR, 2.0)
        self.lassoed = _ring(11, LASSO_COLOR, 1.4)
        self.selected = _ring(20, SELECTED_COLOR, 3.0)
        for ring in (self.lassoed, self.found, self.selected):
            item.addItem(ring)

    @staticmethod
    def show(ring: pg.ScatterPlotItem, xy) -> None:
        xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        ring.setData(x=xy[:, 0], y=xy[:, 1])

    def counts(self) -> dict[str, int]:
        return {name: len(getattr(self, name).data) for name in ("found", "lassoed", "selected")}


class LassoTool:
    """A free-form lasso on one plot item's view box (replaces its drag-to-pan while on)."""

    def __init__(self, item, on_drawn) -> None:
        self.item, self.on_drawn, self.enabled = item, on_drawn, False
        self.box = item.getViewBox()
        self.corners: list[tuple[float, float]] = []
        self.curve = pg.PlotCurveItem(pen=pg.mkPen(SELECTED_COLOR, width=2, style=Qt.PenStyle.DashLine))
        self.curve.setZValue(11)
        item.addItem(self.curve)
        self._pan = self.box.mouseDragEvent
        self.box.mouseDragEvent = self._drag   # the scene calls the box's handler: ours decides

    def set_enabled(self, enabled: bool) -> None:
        self.enabled = bool(enabled)

    def _drag(self, event, axis=None) -> None:
        if not self.enabled or event.button() != Qt.MouseButton.LeftButton:
            self._pan(event, axis=axis) if axis is not None else self._pan(event)
            return
        event.accept()
        point = self.box.mapToView(event.pos())
        if event.isStart():
            start = self.box.mapToView(event.buttonDownPos())
            self.corners = [(start.x(), start.y())]
        self.corners.append((point.x(), point.y()))
        self._draw(closed=event.isFinish())
        if event.isFinish():
            self.on_drawn(np.array(self.corners, dtype=np.float64))

    def draw_polygon(self, corners) -> None:
        """Draw ``corners`` as the lasso (a test, or a lasso drawn by other means) and hand them on."""
        self.corners = [tuple(map(float, c)) for c in corners]
        self._draw(closed=True)
        self.on_drawn(np.array(self.corners, dtype=np.float64))

    def _draw(self, closed: bool) -> None:
        corners = self.corners + (self.corners[:1] if closed and self.corners else [])
        xy = np.array(corners, dtype=np.float64).reshape(-1, 2)
        self.curve.setData(xy[:, 0], xy[:, 1])

    def clear(self) -> None:
        self.corners = []
        self.curve.setData([], [])
