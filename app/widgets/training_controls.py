"""The row above the Training plots: the x axis (step, epoch or wall time), smoothing (TensorBoard's EMA
weight), log-scale losses, "Export series…" and — when several runs are overlaid — which loss term and
which test set each run draws."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QPushButton, QSlider, QWidget

from app.state.training_overlay import DEFAULT_SMOOTHING, MAX_SMOOTHING, PlotOptions, short_dataset
from app.widgets.combos import refill_entries
from app.widgets.layout import STRETCH, hbox

SLIDER_STEPS = 100   # the weight moves in steps of 0.01
COMBO_CHARS = 12     # loss term / test set choosers show this many characters (the list shows all)
X_AXIS_CHOICES = (("step", "step"), ("epoch", "epoch"), ("wall time", "time"))   # (shown, X_AXES kind)


class TrainingPlotControls(QWidget):
    """Emits ``changed()`` when an option that changes the drawn lines moves; ``logScaleToggled(bool)``
    for the loss axes."""

    changed = Signal()
    logScaleToggled = Signal(bool)
    exportRequested = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.x_axis = QComboBox()
        for text, kind in X_AXIS_CHOICES:
            self.x_axis.addItem(text, kind)
        self.x_axis.setCurrentIndex(1)   # epoch
        self.x_axis.setToolTip("The x axis of the plots: the global optimizer step (stage 2 counts on from "
                               "stage 1), the epoch of each stage, or wall-clock minutes since the run started")
        self.x_axis.currentIndexChanged.connect(lambda _: self.changed.emit())
        self.export_button = QPushButton("Export series…")
        self.export_button.setToolTip("Save every series drawn (run, plot, series, x, y) as CSV or JSON")
        self.export_button.clicked.connect(self.exportRequested)
        self.smoothing = QSlider(Qt.Orientation.Horizontal)
        self.smoothing.setRange(0, round(MAX_SMOOTHING * SLIDER_STEPS))
        self.smoothing.setValue(round(DEFAULT_SMOOTHING * SLIDER_STEPS))
        self.smoothing.setFixedWidth(120)
        self.smoothing.setToolTip("Exponential moving average of the loss curves, as in TensorBoard "
                                  "(0 = raw; the raw values stay drawn faintly behind)")
        self.smoothing_value = QLabel()
        self.smoothing_value.setMinimumWidth(32)
        self.log_scale = QCheckBox("log-scale losses")
        self.log_scale.setToolTip("Show loss axes on a log scale (small terms become readable)")
        self.loss_term = QComboBox()
        self.loss_term.setToolTip("The loss term drawn for each overlaid run")
        self.eval_dataset = QComboBox()
        self.eval_dataset.setToolTip("The test set whose mAP / R1 are drawn for each overlaid run")
        self.smoothing.valueChanged.connect(self._smoothing_moved)
        self.log_scale.toggled.connect(self.logScaleToggled)
        self.loss_term.currentIndexChanged.connect(lambda _: self.changed.emit())
        self.eval_dataset.currentIndexChanged.connect(lambda _: self.changed.emit())
        self.overlay_labels = (QLabel("loss:"), QLabel("test set:"))
        for combo in (self.loss_term, self.eval_dataset):   # a fixed width: long names never widen the row
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(COMBO_CHARS)
        layout = hbox(QLabel("x:"), self.x_axis, 12, QLabel("smoothing"), self.smoothing, self.smoothing_value, 12,
                      self.overlay_labels[0],
                      self.loss_term, 8, self.overlay_labels[1], self.eval_dataset, STRETCH, self.log_scale, 8,
                      self.export_button)
        self.setLayout(layout)
        self._smoothing_moved(self.smoothing.value(), emit=False)
        self.set_choices([], [], overlay=False)

    def options(self) -> PlotOptions:
        return PlotOptions(smoothing=self.smoothing.value() / SLIDER_STEPS,
                           loss_term=self.loss_term.currentText() or "total",
                           eval_dataset=self.eval_dataset.currentData() or "",
                           x_axis=self.x_axis.currentData() or "epoch")

    def set_x_axis(self, kind: str) -> None:
        """Draw along ``kind`` ("step", "epoch" or "time")."""
        index = self.x_axis.findData(kind)
        if index < 0:
            raise ValueError(f"no x axis '{kind}'; choose one of {', '.join(k for _, k in X_AXIS_CHOICES)}")
        self.x_axis.setCurrentIndex(index)

    def set_smoothing(self, weight: float) -> None:
        self.smoothing.setValue(round(weight * SLIDER_STEPS))

    def set_choices(self, loss_terms: list[str], datasets: list[str], overlay: bool) -> None:
        """The overlay's loss terms and test sets (kept when still offered); hidden for one run."""
        refill_entries(self.loss_term, [(term, term) for term in loss_terms])
        refill_entries(self.eval_dataset, [(short_dataset(d), d) for d in datasets])
        for widget in (self.loss_term, self.eval_dataset, *self.overlay_labels):
            widget.setVisible(overlay)

    def _smoothing_moved(self, value: int, emit: bool = True) -> None:
        self.smoothing_value.setText(f"{value / SLIDER_STEPS:.2f}")
        if emit:
            self.changed.emit()
