"""The Training panel's plots: losses of stage 1 and stage 2, and evaluation mAP / R1.

The widget draws :class:`app.state.training_overlay.PlotLine` lists and holds no logic of its own:
``show_lines`` reuses the item of a line whose key it already draws (following a live run stays
cheap) and removes the items of lines that are gone; ``clear`` empties every line and writes a
message in their place (what is loading, or why nothing can be drawn). Emptied lines keep their items,
hidden, so the next run's lines of the same names reuse them: creating a pyqtgraph item with its legend
entry costs a few ms each, and selecting a run would otherwise rebuild a dozen of them.

Long series are decimated as drawn (pyqtgraph's automatic peak downsampling, only the visible x range
clipped in), so a live run's thousands of steps cost a few hundred points per repaint. A readout under
the plots (:class:`app.widgets.training_readout.PlotReadout`) gives every drawn run's value where the
mouse points.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QTextOption
from PySide6.QtWidgets import QGridLayout, QWidget

from app.state.training_overlay import EVAL_PLOT, LOSS_PLOTS, X_AXIS_TITLES
from app.widgets.plotting import PALETTE, make_plot, pg
from app.widgets.training_readout import PlotReadout

STAGE_TITLES = {1: "Stage 1 · prompt learning — losses", 2: "Stage 2 · image encoder — losses"}
EVAL_TITLE = "Evaluation during stage 2"
OVERLAY_EVAL_TITLE = "Evaluation during stage 2 — ● mAP (solid) · ▲ R1 (dashed)"
FAINT_ALPHA = 70
# Legends sit top-left, in one column: the newest points are drawn at the right end of every curve (a live
# run's latest epoch), where a legend would hide them; the left holds the first epochs (losses start
# high there, the first evaluations are rare and score low).
LEGEND_OFFSET = (8, 8)
DOWNSAMPLE_PER_PIXEL = 0.5   # peak decimation keeps min and max per bin of 2 px: about one point per pixel drawn
# Qt's raster engine strokes an antialiased line wider than one pixel as a path: ~5 ms per 60-point curve, and
# ~150 ms per curve of a live run's hundreds of steps, on every repaint. Thin lines are drawn 1 px wide and
# antialiased (Qt's fast path); wide ones (a run's total loss, the evaluations) aliased, as line segments.
THIN_MAX_WIDTH = 1.5
MESSAGE_WIDTH_PX = 360   # placeholder messages wrap at this width instead of running off the plot


# plot name -> (title, x-axis label, y-axis label, position in the grid)
PLOT_LAYOUT = {LOSS_PLOTS[1]: (STAGE_TITLES[1], "epoch", "loss", (0, 0, 1, 1)),
               LOSS_PLOTS[2]: (STAGE_TITLES[2], "epoch", "loss", (0, 1, 1, 1)),
               EVAL_PLOT: (EVAL_TITLE, "stage-2 epoch", "%", (1, 0, 1, 2))}


class TrainingPlotsWidget(QWidget):
    """With ``build_in_turns``, the three plots (~10 ms each) are made one per event-loop turn after the
    constructor (the window paints and answers in between); anything that needs them before makes the
    rest at once (``plots``, ``loss_plots`` and ``eval_plot`` are always complete when read)."""

    def __init__(self, parent=None, build_in_turns: bool = False) -> None:
        super().__init__(parent)
        layout = self._grid = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.setRowStretch(0, 3)
        layout.setRowStretch(1, 2)
        self._plots: dict[str, pg.PlotWidget] = {}   # built so far, in PLOT_LAYOUT's order
        self.x_axis = "epoch"
        self._eval_title = ""
        self.lines: list = []   # the PlotLine list drawn now (the readout and the export read it)
        self.readout = PlotReadout({}, lambda: self.lines, self.axis_title)
        layout.addWidget(self.readout.label, 2, 0, 1, 2)
        self._items: dict[tuple, pg.PlotDataItem] = {}
        self._styles: dict[tuple, tuple] = {}
        self._data: dict[tuple, tuple] = {}   # key -> the (x, y) its item holds: unchanged data is not set again
        self._order: list[tuple] = []   # keys of the lines drawn, in the order they were drawn
        self._messages: dict[str, pg.TextItem] = {}
        self.message = "no events yet"   # what each plot says until lines come (clear())
        if build_in_turns:
            QTimer.singleShot(0, self, self._build_next)
        else:
            self._complete()

    # -- the plots, made in turns ----------------------------------------------------------------------
    @property
    def plots(self) -> dict:
        """``{"loss1" | "loss2" | "eval": PlotWidget}``."""
        self._complete()
        return self._plots

    @property
    def loss_plots(self) -> dict:
        """``{stage: PlotWidget}``."""
        return {stage: self.plots[name] for stage, name in LOSS_PLOTS.items()}

    @property
    def eval_plot(self) -> pg.PlotWidget:
        return self.plots[EVAL_PLOT]

    def _complete(self) -> None:
        while len(self._plots) < len(PLOT_LAYOUT):
            self._build_one()

    def _build_next(self) -> None:
        if len(self._plots) < len(PLOT_LAYOUT):
            self._build_one()
            QTimer.singleShot(0, self, self._build_next)

    def _build_one(self) -> None:
        """Make the next plot as a new one looks (no lines, the placeholder message, the x axis named)."""
        name = next(name for name in PLOT_LAYOUT if name not in self._plots)
        title, x_label, y_label, position = PLOT_LAYOUT[name]
        plot = self._plots[name] = make_plot(title, x_label, y_label)
        legend = plot.getPlotItem().legend
        legend.setOffset(LEGEND_OFFSET)
        legend.setColumnCount(1)   # narrow, so it hides few points
        for axis in ("left", "bottom"):   # the grid of the major and minor ticks only: the finest level's many
            plot.getPlotItem().getAxis(axis).setStyle(maxTickLevel=1)   # faint lines doubled each paint's cost
        self._grid.addWidget(plot, *position)
        self.readout.add_plot(name, plot)
        if self.message:
            self._show_message(name, self.message)

    # -- what is shown ---------------------------------------------------------------------------------
    def clear(self, message: str = "no events yet") -> None:
        """Empty every line (their items stay, hidden, for reuse) and show ``message`` in each plot instead."""
        self._hide_all()
        for name, plot in self.plots.items():
            plot.getPlotItem().legend.setVisible(False)
            self._drop_message(name)
        self.message = message
        for name in self.plots:
            self._show_message(name, message)

    def set_x_axis(self, kind: str) -> None:
        """Name the x axes after ``kind`` ("epoch", "step" or "time"); the lines come with the next draw."""
        if kind == self.x_axis:
            return
        self.x_axis = kind
        for name, plot in self.plots.items():
            plot.getPlotItem().setLabel("bottom", self.axis_title(name))
            plot.getPlotItem().enableAutoRange(axis=pg.ViewBox.XAxis)
        self.readout.clear()

    def axis_title(self, plot_name: str) -> str:
        if self.x_axis == "epoch":
            return "stage-2 epoch" if plot_name == EVAL_PLOT else "epoch"
        return X_AXIS_TITLES[self.x_axis]

    def show_lines(self, lines, eval_x_max: float | tuple = 0.0, empty_message: str = "nothing to draw yet",
                   overlay: bool = False, max_new_items: int | None = None) -> int:
        """Draw exactly ``lines``; a plot without any shows ``empty_message``. With ``max_new_items``,
        create at most that many new items now and return how many lines are left to draw (call again
        with the same lines on a later event-loop turn); otherwise every line is drawn and 0 returned."""
        self.lines = list(lines)
        if self.readout.entries:
            self.readout.clear()   # its values were those of the previous lines
        order = [line.key for line in lines]
        if lines and order != self._order:   # other runs or terms: keep the common start, redraw the rest
            self._keep_common_start(lines)   # in order (legends list lines in the order their items were added)
            self._order = order
        if not lines:
            self._hide_all()
        drawn, waiting, created = set(), set(), 0
        for line in lines:
            if max_new_items is not None and not self._has_item(line):
                if created >= max_new_items:
                    waiting.add(line.plot)
                    continue
                created += 1
            item = self._item_for(line)
            if self._data.get(line.key) != (line.x, line.y):
                item.setData(line.x, line.y)
                self._data[line.key] = (line.x, line.y)
            item.setVisible(True)
            drawn.add(line.plot)
        for name, plot in self.plots.items():
            if name in drawn:
                if name in self._messages and name != EVAL_PLOT:
                    plot.getPlotItem().enableAutoRange()   # the message had fixed the range
                self._drop_message(name)
            elif name in waiting:
                pass   # its lines come on a later turn
            elif name not in self._messages or self._messages[name].textItem.toPlainText() != empty_message:
                self._drop_message(name)
                self._show_message(name, empty_message)
            plot.getPlotItem().legend.setVisible(name in drawn and bool(plot.getPlotItem().legend.items))
        self.message = "" if drawn or waiting else empty_message
        title = f"<span style='font-size:11pt'>{OVERLAY_EVAL_TITLE if overlay else EVAL_TITLE}</span>"
        if self._eval_title != title:   # a few ms each time: set it when it changes
            self._eval_title = title
            self.eval_plot.getPlotItem().setTitle(title)
        self._range_eval(eval_x_max, overlay and EVAL_PLOT in drawn)
        for plot in self.plots.values():   # the auto range now, not in the paint: a range set while painting
            plot.getPlotItem().getViewBox().prepareForPaint()   # changes the axes, and every plot paints twice
        return sum(line.plot in waiting and not self._has_item(line) for line in lines)

    def _range_eval(self, x_range, zoom: bool) -> None:
        """Epochs from 0 (a run evaluated once shows its point at the end of stage 2, not alone);
        percentages 0-100 for one run, zoomed on the points when runs are compared (close scores apart)."""
        plot_item = self.eval_plot.getPlotItem()
        x_min, x_max = x_range if isinstance(x_range, tuple) else (0.0, x_range)   # (lo, hi), or hi from 0
        if x_max > x_min:
            plot_item.setXRange(x_min, x_max, padding=0.04)
        elif x_max:
            plot_item.setXRange(x_max - 1, x_max, padding=0.04)
        else:   # nothing evaluated yet
            plot_item.enableAutoRange(axis=pg.ViewBox.XAxis)
        if zoom:
            plot_item.enableAutoRange(axis=pg.ViewBox.YAxis)
        else:
            plot_item.setYRange(0, 100, padding=0.02)

    def set_log_losses(self, enabled: bool) -> None:
        """Log-scale loss axes (small terms such as the PDCA consistency loss become readable)."""
        for plot in self.loss_plots.values():
            plot.getPlotItem().setLogMode(y=enabled)

    def drawn_lines(self, plot_name: str) -> dict[tuple, pg.PlotDataItem]:
        """The items drawn in one plot ("loss1", "loss2", "eval"), by line key."""
        return {key: item for key, item in self._items.items() if self._styles[key][0] == plot_name}

    # -- items -----------------------------------------------------------------------------------------
    def _has_item(self, line) -> bool:
        """An item drawn ``line`` can take: its own, or one to restyle in place (same plot, legend entry, layer)."""
        style = self._styles.get(line.key)
        return style is not None and _restylable(style, _style(line))

    def _item_for(self, line) -> pg.PlotDataItem:
        style = _style(line)
        if self._styles.get(line.key) == style:
            return self._items[line.key]
        if line.key in self._items and _restylable(self._styles[line.key], style):
            # another colour, width, dash or symbol (a run of a few epochs gets markers, a longer one none):
            # the same item restyled with its new data at once, not a new item and legend entry
            item = self._items[line.key]
            item.setData(line.x, line.y, **_item_options(line, restyle=True))
            self._data[line.key], self._styles[line.key] = (line.x, line.y), style
            return item
        if line.key in self._items:
            self._remove(line.key)
        plot_item = self.plots[line.plot].getPlotItem()
        item = plot_item.plot(line.x, line.y, name=line.label, **_item_options(line))   # created with its data:
        self._data[line.key] = (line.x, line.y)                                         # set once, not twice
        if line.faint:
            item.setZValue(-1)
        # thousands of steps: a few points per pixel drawn (set once the item sits in its view box)
        item.opts["autoDownsampleFactor"] = DOWNSAMPLE_PER_PIXEL   # (no setter; read by setDownsampling's update)
        item.setDownsampling(auto=True, method="peak")
        item.setClipToView(True)
        if line.label and line.run and line.label != line.run:   # a legend names the run short: the tooltip whole
            legend_label = plot_item.legend.getLabel(item)
            if legend_label is not None:
                legend_label.setToolTip(line.run)
        if line.plot != EVAL_PLOT:
            plot_item.enableAutoRange()
        self._items[line.key], self._styles[line.key] = item, style
        return item

    def hide_lines(self) -> None:
        """Hide every line and legend until the next ``show_lines`` (nothing stale stays on screen)."""
        self._hide_all()
        for plot in self.plots.values():
            plot.getPlotItem().legend.setVisible(False)

    def _hide_all(self) -> None:
        for key, item in self._items.items():
            if key in self._data:   # holds data: empty it, so nothing of another run stays in the item
                item.setData([], [])
            item.hide()
        self._data.clear()

    def _keep_common_start(self, lines) -> None:
        """Per plot, keep the items of the lines that start both the drawn order and ``lines``; remove the rest."""
        for key in [key for key in self._items if key not in self._order]:
            self._remove(key)
        for name in self.plots:
            drawn = [key for key in self._order if key in self._items and self._styles[key][0] == name]
            wanted = [line.key for line in lines if line.plot == name]
            common = 0
            while common < min(len(drawn), len(wanted)) and drawn[common] == wanted[common]:
                common += 1
            for key in drawn[common:]:
                self._remove(key)

    def _remove(self, key) -> None:
        item, style = self._items.pop(key), self._styles.pop(key)
        self._data.pop(key, None)
        self.plots[style[0]].getPlotItem().removeItem(item)

    def _show_message(self, name: str, message: str) -> None:
        plot_item = self.plots[name].getPlotItem()
        text = pg.TextItem(message, color="#888888", anchor=(0.5, 0.5))
        text.textItem.setTextWidth(MESSAGE_WIDTH_PX)
        text.textItem.document().setDefaultTextOption(_centred())
        plot_item.addItem(text)
        top = 100 if name == EVAL_PLOT else 1
        plot_item.getViewBox().setRange(xRange=(0, 1), yRange=(0, top), padding=0)
        text.setPos(0.5, top / 2)
        self._messages[name] = text

    def _drop_message(self, name: str) -> None:
        text = self._messages.pop(name, None)
        if text is not None:
            self.plots[name].getPlotItem().removeItem(text)


def _style(line) -> tuple:
    """What an item is created with: a line whose style changed gets a new item."""
    return line.plot, line.colour, line.label, line.width, line.dashed, line.faint, line.symbol


def _restylable(before: tuple, after: tuple) -> bool:
    """Whether an item styled ``before`` can be restyled to ``after``: same plot, legend label and layer."""
    plot, _, label, _, _, faint, _ = before
    return (plot, label, faint) == (after[0], after[2], after[5])


def _item_options(line, restyle: bool = False) -> dict:
    colour = pg.mkColor(PALETTE[line.colour % len(PALETTE)])
    if line.faint:
        colour.setAlpha(FAINT_ALPHA)
    wide = line.width > THIN_MAX_WIDTH
    item_pen = pg.mkPen(colour, width=line.width if wide else 1.0)
    if line.dashed:
        item_pen.setStyle(Qt.PenStyle.DashLine)
    # dynamicRangeLimit guards against values far outside the view; losses and percentages never are, and
    # with it every line re-computes itself on each y-range change (adding a line re-ranges the plot)
    options = dict(pen=item_pen, dynamicRangeLimit=None, antialias=not wide)
    if line.symbol is not None:
        size = 6 if line.faint else 9
        options.update(symbol=line.symbol, symbolSize=size, symbolBrush=colour, symbolPen=None)
    elif restyle:
        options.update(symbol=None)   # markers off (an item created with them keeps them otherwise)
    return options


def _centred() -> QTextOption:
    option = QTextOption()
    option.setAlignment(Qt.AlignmentFlag.AlignCenter)
    option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    return option
