"""The Training panel's live plots: losses of stage 1 and stage 2, and evaluation mAP / R1."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QWidget

from app.widgets.plotting import make_plot, pen, pg

STAGE_TITLES = {1: "Stage 1 · prompt learning — losses", 2: "Stage 2 · image encoder — losses"}


class TrainingPlotsWidget(QWidget):
    """Draws an ``app.state.curves.TrainingCurves``; ``update_from`` only pushes new data to
    existing curve items, so following a live run stays cheap."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        self.loss_plots = {stage: make_plot(title, "epoch", "loss") for stage, title in STAGE_TITLES.items()}
        self.eval_plot = make_plot("Evaluation during stage 2", "stage-2 epoch", "%")
        self.eval_plot.getPlotItem().setYRange(0, 100, padding=0.02)
        # top-left, one column: the first epochs are rarely evaluated and score low, so it hides the fewest points
        self.eval_plot.getPlotItem().legend.setOffset((8, 8))
        self.eval_plot.getPlotItem().legend.setColumnCount(1)
        layout.addWidget(self.loss_plots[1], 0, 0)
        layout.addWidget(self.loss_plots[2], 0, 1)
        layout.addWidget(self.eval_plot, 1, 0, 1, 2)
        layout.setRowStretch(0, 3)
        layout.setRowStretch(1, 2)
        self._items: dict[tuple, pg.PlotDataItem] = {}
        self._empty_texts: dict[int, pg.TextItem] = {}
        self.clear()

    def clear(self, message: str = "no events yet") -> None:
        for plot in (*self.loss_plots.values(), self.eval_plot):
            plot.getPlotItem().clear()
            legend = plot.getPlotItem().legend
            if legend is not None:
                legend.clear()
                legend.setVisible(False)
        self._items = {}
        self._show_placeholders(message)

    def _show_placeholders(self, message: str) -> None:
        self._empty_texts = {}
        for key, plot in (*self.loss_plots.items(), ("eval", self.eval_plot)):
            text = pg.TextItem(message, color="#888888", anchor=(0.5, 0.5))
            plot.getPlotItem().addItem(text)
            text.setPos(0.5, 0.5)
            plot.getPlotItem().getViewBox().setRange(xRange=(0, 1), yRange=(0, 1) if key != "eval" else (0, 100))
            if key == "eval":
                text.setPos(0.5, 50)
            self._empty_texts[key] = text

    def _drop_placeholder(self, key) -> None:
        text = self._empty_texts.pop(key, None)
        if text is not None:
            (self.eval_plot if key == "eval" else self.loss_plots[key]).getPlotItem().removeItem(text)

    def set_log_losses(self, enabled: bool) -> None:
        """Log-scale loss axes (small terms such as the PDCA consistency loss become readable)."""
        for plot in self.loss_plots.values():
            plot.getPlotItem().setLogMode(y=enabled)

    def update_from(self, curves) -> None:
        for stage, plot in self.loss_plots.items():
            for index, (name, series) in enumerate(sorted(curves.losses(stage).items(), key=_loss_order)):
                if not len(series):
                    continue
                self._drop_placeholder(stage)
                width = 2.2 if name == "total" else 1.4
                self._curve(plot, ("loss", stage, name), name, pen(index, width)).setData(series.x, series.y)
        for index, (dataset, series) in enumerate(sorted(curves.evals.items())):
            for offset, (metric, style) in enumerate((("mAP", Qt.PenStyle.SolidLine), ("R1", Qt.PenStyle.DashLine))):
                data = series[metric]
                if not len(data):
                    continue
                self._drop_placeholder("eval")
                label = f"{metric} {dataset}" if len(curves.evals) > 1 else metric
                item_pen = pen(2 * index + offset, 2.0)
                item_pen.setStyle(style)
                item = self._curve(self.eval_plot, ("eval", dataset, metric), label, item_pen, symbol=True)
                item.setData(data.x, data.y)
        last_epoch = max((max(s.x) for series in curves.evals.values() for s in series.values() if len(s)), default=0)
        if last_epoch:   # from epoch 0: a run evaluated once shows its point at the end of stage 2, not alone
            self.eval_plot.getPlotItem().setXRange(0, last_epoch, padding=0.04)

    def _curve(self, plot, key, name, item_pen, symbol: bool = False) -> pg.PlotDataItem:
        item = self._items.get(key)
        if item is None:
            options = dict(symbol="o", symbolSize=8, symbolBrush=item_pen.color(), symbolPen=None) if symbol else {}
            item = plot.getPlotItem().plot([], [], pen=item_pen, name=name, **options)
            if plot.getPlotItem().legend is not None:
                plot.getPlotItem().legend.setVisible(True)
            if plot is self.eval_plot:   # percentages 0-100; epochs from 0 (update_from sets the x range)
                plot.getPlotItem().setYRange(0, 100, padding=0.02)
            else:
                plot.getPlotItem().enableAutoRange()
            self._items[key] = item
        return item


def _loss_order(item):
    """'total' first, then the parts alphabetically (stable colours across refreshes)."""
    name = item[0]
    return (name != "total", name)
