"""A forest plot of paired differences: one horizontal line per comparison, drawn from
:class:`app.state.study.ForestEntry` values (AP points). The 95 % interval is a thick bar, the mean a
diamond with its value written above, every seed's difference a small dot just below the bar, and a
dashed vertical line marks 0 (no difference)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from app.widgets.plotting import PALETTE, pg

BAR_COLOR = PALETTE[0]
MEAN_COLOR = "#222222"
SEED_COLOR = PALETTE[1]
SEED_OFFSET = 0.14  # per-seed dots sit this far below their line, so the bar does not hide them


class ForestPlotWidget(pg.PlotWidget):
    """``show_entries(entries, x_label)`` draws; ``show_message(text)`` empties the plot with a note."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)   # white background and antialiasing: app.widgets.plotting configured pg
        item = self.getPlotItem()
        item.showGrid(x=True, y=False, alpha=0.25)
        item.setMenuEnabled(False)
        item.setMouseEnabled(x=True, y=False)
        item.hideButtons()
        item.getAxis("left").setStyle(tickTextOffset=8)
        self.setMinimumHeight(160)
        self.entries: list = []
        self.bars: dict[str, pg.PlotDataItem] = {}   # label -> the interval bar (entries without an interval have none)
        self.mean_points: pg.ScatterPlotItem | None = None
        self.seed_points: pg.ScatterPlotItem | None = None
        self.show_message("")

    # -- states ----------------------------------------------------------------------------------------
    def _reset(self) -> None:
        item = self.getPlotItem()
        item.clear()
        item.getAxis("left").setTicks([[]])
        item.setLabel("bottom", "")
        self.entries, self.bars = [], {}
        self.mean_points = self.seed_points = None

    def show_message(self, text: str) -> None:
        self._reset()
        if text:
            note = pg.TextItem(text, color="#888888", anchor=(0.5, 0.5))
            self.getPlotItem().addItem(note)
            note.setPos(0.5, 0.5)
        self.getPlotItem().getViewBox().setRange(xRange=(0, 1), yRange=(0, 1), padding=0)

    def row_labels(self) -> list[str]:
        """The y-axis labels, top to bottom (one per comparison)."""
        return [entry.label for entry in self.entries]

    # -- drawing ---------------------------------------------------------------------------------------
    def show_entries(self, entries, x_label: str) -> None:
        self._reset()
        if not entries:
            self.show_message("no paired comparisons on this test set")
            return
        self.entries = list(entries)
        item = self.getPlotItem()
        item.setLabel("bottom", x_label)
        item.addItem(pg.InfiniteLine(pos=0, angle=90, pen=pg.mkPen("#777777", width=1.2, style=Qt.PenStyle.DashLine)))
        rows = {entry.label: len(self.entries) - 1 - index for index, entry in enumerate(self.entries)}   # top first
        item.getAxis("left").setTicks([[(y, label) for label, y in rows.items()]])
        for entry in self.entries:
            self._draw_interval(entry, rows[entry.label])
        self.mean_points = self._scatter([(e.mean, rows[e.label]) for e in self.entries if e.mean is not None],
                                         symbol="d", size=13, brush=MEAN_COLOR, name="mean")
        self.seed_points = self._scatter([(x, rows[e.label] - SEED_OFFSET) for e in self.entries for x in e.per_seed],
                                         symbol="o", size=8, brush=SEED_COLOR, name="per seed")
        self._fit(rows)

    def _draw_interval(self, entry, y: float) -> None:
        if entry.lo is not None and entry.hi is not None:
            self.bars[entry.label] = self.getPlotItem().plot(
                [entry.lo, entry.hi], [y, y], pen=pg.mkPen(BAR_COLOR, width=6, cap=Qt.PenCapStyle.FlatCap))
        if entry.mean is None:
            return
        has_interval = entry.lo is not None and entry.hi is not None
        interval = f" [{entry.lo:.1f}, {entry.hi:.1f}]" if has_interval else " (no interval)"
        text = pg.TextItem(f"{entry.mean:+.1f}{interval}   sign {entry.sign_text}", color="#333333", anchor=(0.5, 1.15))
        self.getPlotItem().addItem(text)
        text.setPos(entry.mean, y)

    def _scatter(self, xy, symbol: str, size: int, brush: str, name: str) -> pg.ScatterPlotItem:
        scatter = pg.ScatterPlotItem([x for x, _ in xy], [y for _, y in xy], symbol=symbol, size=size,
                                     brush=pg.mkBrush(brush), pen=pg.mkPen("w", width=0.8), name=name)
        self.getPlotItem().addItem(scatter)
        return scatter

    def _fit(self, rows: dict) -> None:
        """x: every value and 0, with a margin for the value labels; y: one unit per line."""
        xs = [0.0]
        for entry in self.entries:
            xs += [x for x in (entry.mean, entry.lo, entry.hi, *entry.per_seed) if x is not None]
        low, high = min(xs), max(xs)
        margin = max(0.5, 0.15 * (high - low))
        view = self.getPlotItem().getViewBox()
        view.setRange(xRange=(low - margin, high + margin), yRange=(-0.6, len(rows) - 0.4), padding=0)
