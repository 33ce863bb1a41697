"""Modality-gap scatter plots, one per run: image points red, text points blue, a grey line per pair.

Linked like an embedding projector: hovering a point shows its image (or the image its text is
paired with), identity and caption in a tooltip and emits ``pointHovered``; clicking an image point
emits ``pointClicked``; the mouse wheel zooms and dragging pans (``reset_zoom`` fits all points).
The arrays come prepared by :class:`app.state.gap_view.GapView` (built in a worker). Each plot fits its
cell: its title names the run by the part that tells it from the other runs plotted, elided to the
plot's width (the whole title in its tooltip), and its range takes in every point.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolTip, QWidget

from app.state.gap_view import IMAGE, TEXT, GapView, HoveredPoint, plot_titles
from app.state.names import breakable
from app.widgets.error_banner import wrap_anywhere
from app.widgets.plotting import IMAGE_COLOR, PAIR_COLOR, TEXT_COLOR, make_plot, pg

ERROR_STYLE = "color: #8A1C12; font-size: 11pt;"
MESSAGE_STYLE = "color: #666; font-size: 11pt;"


class GapPlotsWidget(QWidget):
    pointHovered = Signal(object, str)   # HoveredPoint (None when the mouse leaves the points), rich text
    pointClicked = Signal(object)        # HoveredPoint of a clicked image point

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.row = QHBoxLayout(self)
        self.row.setContentsMargins(0, 0, 0, 0)
        self.plots: list[pg.PlotWidget] = []
        self.views: list[GapView] = []
        self.message = ""
        self.show_message("")

    def _reset(self) -> None:
        while self.row.count():
            widget = self.row.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        self.plots, self.views = [], []

    def show_message(self, text: str, error: bool = False) -> None:
        """Replace the plots with a message (an error in red: a failed load shows in place of the data)."""
        self._reset()
        self.message = text
        label = wrap_anywhere(QLabel(breakable(text)))   # a long error wraps; it never widens the window
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setStyleSheet(ERROR_STYLE if error else MESSAGE_STYLE)
        self.row.addWidget(label)

    def show_views(self, views: list[GapView]) -> None:
        self._reset()
        self.message = ""
        for view, title in zip(views, plot_titles(views)):
            plot = self._plot_of(view, title)
            self.plots.append(plot)
            self.views.append(view)
            self.row.addWidget(plot, 1)

    def _plot_of(self, view: GapView, title: str) -> pg.PlotWidget:
        plot = make_plot(title, "", "", legend=False, elide_title=True)   # one shared legend above the plots
        item = plot.getPlotItem()
        item.hideAxis("bottom")
        item.hideAxis("left")
        item.setAspectLocked(True)
        item.setMouseEnabled(x=True, y=True)   # wheel zooms, drag pans
        x, y = view.pair_segments()
        item.plot(x, y, pen=pg.mkPen(PAIR_COLOR, width=1), connect="pairs", name="pair")
        for kind, xy, options in ((IMAGE, view.image_xy, dict(size=7, brush=pg.mkBrush(IMAGE_COLOR))),
                                  (TEXT, view.text_xy, dict(size=8, symbol="t", brush=pg.mkBrush(TEXT_COLOR)))):
            scatter = pg.ScatterPlotItem(xy[:, 0], xy[:, 1], data=np.arange(len(xy)), pen=pg.mkPen("w", width=0.5),
                                         hoverable=True, tip=None, hoverSize=options["size"] + 5, hoverPen=pg.mkPen("k", width=1.5),
                                         name=kind if kind == IMAGE else f"text ({view.text_kind})", **options)
            scatter.sigHovered.connect(lambda _item, points, event, v=view, k=kind: self._hovered(v, k, points, event))
            scatter.sigClicked.connect(lambda _item, points, _event, v=view, k=kind: self._clicked(v, k, points))
            item.addItem(scatter)
        return plot

    # -- linking ---------------------------------------------------------------------------------------
    def _hovered(self, view: GapView, kind: str, points, event) -> None:
        if not len(points):
            QToolTip.hideText()
            self.pointHovered.emit(None, "")
            return
        index = int(points[0].data())
        text = view.describe(kind, index)
        screen = event.screenPos() if hasattr(event, "screenPos") else None
        QToolTip.showText(screen.toPoint() if screen is not None else self.mapToGlobal(QPoint(0, 0)), text, self)
        self.pointHovered.emit(HoveredPoint(view.run, kind, index), text)

    def _clicked(self, view: GapView, kind: str, points) -> None:
        if kind == IMAGE and len(points):
            self.pointClicked.emit(HoveredPoint(view.run, kind, int(points[0].data())))

    def widget_pos_of(self, plot_index: int, kind: str, index: int) -> QPoint:
        """Where point ``index`` of plot ``plot_index`` sits in that plot widget's viewport (for tests)."""
        view, plot = self.views[plot_index], self.plots[plot_index]
        x, y = (view.image_xy if kind == IMAGE else view.text_xy)[index]
        scene = plot.getPlotItem().getViewBox().mapViewToScene(QPointF(float(x), float(y)))
        return plot.mapFromScene(scene)

    def reset_zoom(self) -> None:
        for plot in self.plots:
            plot.getPlotItem().getViewBox().autoRange()
