"""The row above the Training plots: smoothing (TensorBoard's EMA weight), log-scale losses, and — when
several runs are overlaid — which loss term and which test set each run draws."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QSlider, QWidget

from app.state.training_overlay import DEFAULT_SMOOTHING, MAX_SMOOTHING, PlotOptions, short_dataset
from app.widgets.combos import refill_entries
from app.widgets.layout import STRETCH, hbox

SLIDER_STEPS = 100   # the weight moves in steps of 0.01
COMBO_CHARS = 12     # loss term / test set choosers show this many characters (the list shows all)


class TrainingPlotControls(QWidget):
    """Emits ``changed()`` when an option that changes the drawn lines moves; ``logScaleToggled(bool)``
    for the loss axes."""

    changed = Signal()
    logScaleToggled = Signal(bool)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
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
        layout = hbox(QLabel("smoothing"), self.smoothing, self.smoothing_value, 12, self.overlay_labels[0],
                      self.loss_term, 8, self.overlay_labels[1], self.eval_dataset, STRETCH, self.log_scale)
        self.setLayout(layout)
        self._smoothing_moved(self.smoothing.value(), emit=False)
        self.set_choices([], [], overlay=False)

    def options(self) -> PlotOptions:
        return PlotOptions(smoothing=self.smoothing.value() / SLIDER_STEPS,
                           loss_term=self.loss_term.currentText() or "total",
                           eval_dataset=self.eval_dataset.currentData() or "")

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
