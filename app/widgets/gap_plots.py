"""Modality-gap scatter plots, one per run: image points red, text points blue, a grey line per pair.

Linked like an embedding projector: hovering a point shows its image (or the image its text is
paired with), identity and caption in a tooltip and emits ``pointHovered``; a click on a point selects
it (``pointSelected``), a double click on an image point opens it (``pointClicked``); the mouse wheel zooms
and dragging pans (``reset_zoom`` fits all points), or, with the lasso on, draws a free-form polygon
(``lassoDrawn``). :meth:`recolour` colours the points ("Colour by"), :meth:`show_marks` rings the points
found, lassoed and selected (:mod:`app.widgets.gap_marks`).
The arrays come prepared by :class:`app.state.gap_view.GapView` (built in a worker). Each plot fits its
cell: its title names the run by the part that tells it from the other runs plotted, elided to the
plot's width (the whole title in its tooltip), and its range takes in every point.
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QHBoxLayout, QLabel, QToolTip, QWidget

from app.state.gap_view import IMAGE, TEXT, GapView, HoveredPoint, plot_titles
from app.state.names import breakable
from app.widgets.error_banner import wrap_anywhere
from app.widgets.gap_marks import LassoTool, PlotMarks
from app.widgets.plotting import IMAGE_COLOR, PAIR_COLOR, TEXT_COLOR, make_plot, pg

ERROR_STYLE = "color: #8A1C12; font-size: 11pt;"
MESSAGE_STYLE = "color: #666; font-size: 11pt;"


class GapPlotsWidget(QWidget):
    pointHovered = Signal(object, str)   # HoveredPoint (None when the mouse leaves the points), rich text
    pointClicked = Signal(object)        # HoveredPoint of a double-clicked image point (open it)
    pointSelected = Signal(object)       # HoveredPoint of a clicked point (image or text)
    lassoDrawn = Signal(int, object)     # plot index, (m, 2) polygon corners in the plot's coordinates

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.row = QHBoxLayout(self)
        self.row.setContentsMargins(0, 0, 0, 0)
        self.plots: list[pg.PlotWidget] = []
        self.views: list[GapView] = []
        self.scatters: list[dict] = []       # per plot: {IMAGE: scatter, TEXT: scatter}
        self.marks: list[PlotMarks] = []
        self.lassos: list[LassoTool] = []
        self.lasso_on = False
        self._brushes: dict[tuple, object] = {}
        self._last_click: tuple = (None, 0.0)   # (HoveredPoint, time.monotonic()) of the last click
        self._built: list[_BuiltPlot] = []      # every plot built so far, reused by the next views (cheap redraw)
        self.label = wrap_anywhere(QLabel())     # a long error wraps; it never widens the window
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.row.addWidget(self.label)
        self.message = ""
        self.show_message("")

    def _reset(self) -> None:
        for built in self._built:
            built.plot.hide()
        self.plots, self.views, self.scatters, self.marks, self.lassos = [], [], [], [], []

    def show_message(self, text: str, error: bool = False) -> None:
        """Replace the plots with a message (an error in red: a failed load shows in place of the data)."""
        self._reset()
        self.message = text
        self.label.setText(breakable(text))
        self.label.setStyleSheet(ERROR_STYLE if error else MESSAGE_STYLE)
        self.label.show()

    def show_views(self, views: list[GapView]) -> None:
        """One plot per view. The plot widgets of earlier views are reused (their items take the new arrays):
        building a pyqtgraph plot costs the GUI thread far more than refilling one."""
        self._reset()
        self.message = ""
        self.label.hide()
        for number, (view, title) in enumerate(zip(views, plot_titles(views))):
            if number == len(self._built):
                self._add_plot()
            built = self._built[number]
            built.show(view, title, self.lasso_on)
            self.plots.append(built.plot)
            self.views.append(view)
            self.scatters.append(built.scatters)
            self.marks.append(built.marks)
            self.lassos.append(built.lasso)

    def prepare(self, count: int) -> None:
        """Build (hidden) the plots ``count`` views will need, one per event-loop turn, while their data is
        computed: showing the views then only refills them, and no single turn builds several plots."""
        if len(self._built) < count:
            self._add_plot()
            QTimer.singleShot(0, self, lambda: self.prepare(count))

    def _add_plot(self) -> None:
        built = self._build_plot(len(self._built))
        built.plot.hide()
        self._built.append(built)
        self.row.addWidget(built.plot, 1)

    def _build_plot(self, number: int) -> "_BuiltPlot":
        plot = make_plot("", "", "", legend=False, elide_title=True)   # one shared legend above the plots
        item = plot.getPlotItem()
        item.hideAxis("bottom")
        item.hideAxis("left")
        item.setAspectLocked(True)
        item.setMouseEnabled(x=True, y=True)   # wheel zooms, drag pans
        pairs = item.plot([], [], pen=pg.mkPen(PAIR_COLOR, width=1), connect="pairs", name="pair")
        scatters = {}
        for kind, options in ((IMAGE, dict(size=7, brush=pg.mkBrush(IMAGE_COLOR))),
                              (TEXT, dict(size=8, symbol="t", brush=pg.mkBrush(TEXT_COLOR)))):
            scatter = pg.ScatterPlotItem(pen=pg.mkPen("w", width=0.5), hoverable=True, tip=None,
                                         hoverSize=options["size"] + 5, hoverPen=pg.mkPen("k", width=1.5), **options)
            scatter.sigHovered.connect(lambda _item, points, event, n=number, k=kind: self._hovered(
                self.views[n], k, points, event))
            scatter.sigClicked.connect(lambda _item, points, event, n=number, k=kind: self._clicked(
                self.views[n], k, points, event))
            item.addItem(scatter)
            scatters[kind] = scatter
        lasso = LassoTool(item, lambda corners, n=number: self.lassoDrawn.emit(n, corners))
        return _BuiltPlot(plot, pairs, scatters, PlotMarks(item), lasso)

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

    def _clicked(self, view: GapView, kind: str, points, event=None) -> None:
        if not len(points):
            return
        point = HoveredPoint(view.run, kind, int(points[0].data()))
        last, self._last_click = self._last_click, (point, time.monotonic())
        interval = QApplication.styleHints().mouseDoubleClickInterval() / 1000
        double = (event is not None and event.double()) or (last[0] == point and self._last_click[1] - last[1] < interval)
        if double:   # pyqtgraph flags a double click; two quick clicks on one point count as one too
            self._last_click = (None, 0.0)
            if kind == IMAGE:
                self.pointClicked.emit(point)
            return
        self.pointSelected.emit(point)

    # -- colours, marks, lasso ---------------------------------------------------------------------------
    def _brush(self, rgba) -> object:
        key = tuple(int(c) for c in rgba)
        brush = self._brushes.get(key)
        if brush is None:
            brush = self._brushes[key] = pg.mkBrush(*key)
        return brush

    def recolour(self, colourings) -> None:
        """Colour each plot's image and text points (one :class:`app.state.gap_colours.Colouring` per plot)."""
        for scatters, colouring in zip(self.scatters, colourings):
            for kind, colours in ((IMAGE, colouring.image_rgba), (TEXT, colouring.text_rgba)):
                scatters[kind].setBrush([self._brush(c) for c in colours])

    def point_xy(self, plot_index: int, kind: str, index: int) -> np.ndarray:
        view = self.views[plot_index]
        return (view.image_xy if kind == IMAGE else view.text_xy)[index]

    def show_marks(self, found=(), lassoed=(), selected=None) -> None:
        """Ring the points ``found`` and ``lassoed`` (``(plot index, image index)`` each) and ``selected``
        (a ``HoveredPoint``, or None)."""
        for number, (view, marks) in enumerate(zip(self.views, self.marks)):
            PlotMarks.show(marks.found, [view.image_xy[i] for p, i in found if p == number])
            PlotMarks.show(marks.lassoed, [view.image_xy[i] for p, i in lassoed if p == number])
            chosen = selected is not None and selected.run == view.run
            PlotMarks.show(marks.selected, [self.point_xy(number, selected.kind, selected.index)] if chosen else [])

    def set_lasso(self, on: bool) -> None:
        """Lasso on: a drag draws a polygon (``lassoDrawn``) instead of panning."""
        self.lasso_on = bool(on)
        for lasso in self.lassos:
            lasso.set_enabled(self.lasso_on)

    def clear_lasso(self, keep: int | None = None) -> None:
        """Wipe the drawn lassos (all but plot ``keep``'s)."""
        for number, lasso in enumerate(self.lassos):
            if number != keep:
                lasso.clear()

    def widget_pos_of(self, plot_index: int, kind: str, index: int) -> QPoint:
        """Where point ``index`` of plot ``plot_index`` sits in that plot widget's viewport (for tests)."""
        view, plot = self.views[plot_index], self.plots[plot_index]
        x, y = (view.image_xy if kind == IMAGE else view.text_xy)[index]
        scene = plot.getPlotItem().getViewBox().mapViewToScene(QPointF(float(x), float(y)))
        return plot.mapFromScene(scene)

    def reset_zoom(self) -> None:
        for plot in self.plots:
            plot.getPlotItem().getViewBox().autoRange()


class _BuiltPlot:
    """One plot's widget and items, refilled by :meth:`show` for each new view."""

    def __init__(self, plot, pairs, scatters: dict, marks: PlotMarks, lasso: LassoTool) -> None:
        self.plot, self.pairs, self.scatters, self.marks, self.lasso = plot, pairs, scatters, marks, lasso

    def show(self, view: GapView, title: str, lasso_on: bool) -> None:
        self.plot.set_title(title)
        self.pairs.setData(*view.pair_segments(), connect="pairs")
        for kind, xy in ((IMAGE, view.image_xy), (TEXT, view.text_xy)):
            scatter = self.scatters[kind]
            scatter.setData(x=xy[:, 0], y=xy[:, 1], data=np.arange(len(xy)))
            scatter.opts["name"] = kind if kind == IMAGE else f"text ({view.text_kind})"
        for ring in (self.marks.found, self.marks.lassoed, self.marks.selected):
            PlotMarks.show(ring, [])
        self.lasso.clear()
        self.lasso.set_enabled(lasso_on)
        self.plot.getPlotItem().getViewBox().enableAutoRange()   # fit the new points (a zoom of the old ones goes)
        self.plot.show()
