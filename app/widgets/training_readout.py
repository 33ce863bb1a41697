"""The value readout of the Training plots: a vertical line where the mouse points and, under the plots,
every overlaid run's value at the nearest x (TensorBoard's hover tooltip).

The lookup is :func:`app.state.plot_readout.readout`; this module only follows the mouse (a rate-limited
``SignalProxy`` on each plot's ``sigMouseMoved``), places the line and writes the label.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSizePolicy

from app.state.plot_readout import readout
from app.widgets.plotting import PALETTE, pg

HINT = "Point at a plot to read every run's value at that x."
MOUSE_RATE_HZ = 30


class PlotReadout:
    """Owns the readout label and one hidden cursor line per plot of ``plots`` (``{name: PlotWidget}``)."""

    def __init__(self, plots: dict, lines_of, axis_title_of) -> None:
        """``lines_of()``: the ``PlotLine`` list drawn now; ``axis_title_of(plot name)``: its x axis' name."""
        self.plots, self._lines_of, self._axis_title_of = plots, lines_of, axis_title_of
        self.label = QLabel(HINT)
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setStyleSheet("QLabel { color: #555; padding: 2px 4px; }")
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.entries = []   # the ReadoutEntry list shown
        self.cursors = {}
        self._proxies = []
        for name, plot in dict(plots).items():
            self.add_plot(name, plot)

    def add_plot(self, name: str, plot) -> None:
        """Follow the mouse over ``plot`` too (a plot made after the readout)."""
        self.plots[name] = plot
        cursor = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#888888", width=1,
                                                                       style=Qt.PenStyle.DashLine))
        cursor.setZValue(10)
        cursor.hide()
        plot.getPlotItem().addItem(cursor, ignoreBounds=True)
        self.cursors[name] = cursor
        proxy = pg.SignalProxy(plot.scene().sigMouseMoved, rateLimit=MOUSE_RATE_HZ,
                               slot=lambda args, n=name: self._mouse_moved(n, args[0]))
        self._proxies.append(proxy)

    def show_at(self, plot_name: str, x: float) -> list:
        """Read every series of ``plot_name`` at ``x`` (the mouse's x there): the line moves to the nearest
        point and the label lists each run's value. Returns the entries shown."""
        self.entries = readout(self._lines_of(), plot_name, x)
        for name, cursor in self.cursors.items():
            cursor.setVisible(name == plot_name and bool(self.entries))
        if not self.entries:
            self.label.setText(HINT)
            return []
        self.cursors[plot_name].setValue(self.entries[0].x)
        parts = [f"<span style='color:{PALETTE[e.colour % len(PALETTE)]}'>■</span> {html.escape(e.text())}"
                 for e in self.entries]
        self.label.setText(f"<b>{html.escape(self._axis_title_of(plot_name))} ≈ {x:.4g}</b> &nbsp; "
                           + " &nbsp;│&nbsp; ".join(parts))
        return self.entries

    def clear(self) -> None:
        self.entries = []
        for cursor in self.cursors.values():
            cursor.hide()
        self.label.setText(HINT)

    def _mouse_moved(self, plot_name: str, position) -> None:
        plot_item = self.plots[plot_name].getPlotItem()
        if not plot_item.sceneBoundingRect().contains(position):
            return
        point = plot_item.getViewBox().mapSceneToView(position)
        x = point.x()
        if plot_item.getAxis("bottom").logMode:
            x = 10 ** x
        self.show_at(plot_name, x)
