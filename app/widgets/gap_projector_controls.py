"""The Modality-gap panel's embedding-projector controls (widgets only; the panel wires them to its state).

- :class:`ColourControls`: the "Colour by" combo (a colouring the data cannot give is disabled, its reason in
  the item's tooltip) and the legend or colour bar under it;
- :class:`FindControls`: "find: path or id" and the one line saying what it found;
- :class:`LassoControls`: the Lasso toggle, how many points it holds and "Send to Retrieval";
- :class:`NeighbourBox`: the selected point and its nearest neighbours in the embedding;
- :class:`BusyRow`: a long computation's busy bar, its elapsed seconds and Cancel.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QElapsedTimer, Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QProgressBar, QPushButton, QWidget

from app.state.gap_colours import COLOUR_BY, COLOUR_LABELS, RAMP, hex_of, legend_entries
from app.widgets.gap_neighbour_list import NeighbourList
from app.widgets.error_banner import wrap_anywhere
from app.widgets.layout import hbox, vbox

HINT_STYLE = "color: #666;"


class ColourControls:
    def __init__(self) -> None:
        self.combo = QComboBox()
        for key in COLOUR_BY:
            self.combo.addItem(COLOUR_LABELS[key], key)
        self.combo.setToolTip("colour the points; a triangle is a text point, a dot an image point")
        self.legend = QLabel()
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)

    def set_unavailable(self, reasons: dict[str, str]) -> None:
        """Disable the colourings with a reason (shown as the item's tooltip); enable the others."""
        model = self.combo.model()
        for row in range(self.combo.count()):
            reason = reasons.get(self.combo.itemData(row), "")
            model.item(row).setEnabled(not reason)
            self.combo.setItemData(row, reason or None, Qt.ItemDataRole.ToolTipRole)

    def show_legend(self, by: str, colourings) -> None:
        if not colourings:
            self.legend.setText("")
            return
        ramp = colourings[0].ramp
        if ramp is not None:
            cells = "".join(f"<td style='background-color:{hex_of(c)}'>&nbsp;&nbsp;&nbsp;&nbsp;</td>" for c in RAMP)
            self.legend.setText(f"<table cellspacing='0'><tr><td>{html.escape(ramp[0])}&nbsp;</td>{cells}"
                                f"<td>&nbsp;{html.escape(ramp[1])}</td></tr></table>"
                                "<span style='color:#777'>grey: not annotated</span>")
            return
        entries, more = legend_entries(colourings)
        parts = [f"<span style='color:{colour}'>●</span>&nbsp;{html.escape(label)}" for label, colour in entries]
        if more:
            parts.append(f"<span style='color:#777'>… {more} more (colours repeat after 20)</span>")
        self.legend.setText(" &nbsp; ".join(parts))


class FindControls:
    def __init__(self) -> None:
        self.edit = QLineEdit()
        self.edit.setPlaceholderText("find: path or id")
        self.edit.setClearButtonEnabled(True)
        self.edit.setToolTip("an identity number rings all its images; part of a path rings (and a single match "
                             "selects) the images whose path contains it")
        self.message = wrap_anywhere(QLabel(""))   # it quotes what was typed
        self.message.setStyleSheet(HINT_STYLE)


class LassoControls:
    def __init__(self) -> None:
        self.toggle = QPushButton("Lasso")
        self.toggle.setCheckable(True)
        self.toggle.setToolTip("on: drag on a plot to draw a free-form selection (instead of panning)")
        self.count = wrap_anywhere(QLabel(""))   # it names the run
        self.count.setStyleSheet(HINT_STYLE)
        self.send = QPushButton("Send to Retrieval")
        self.send.setToolTip("show only the lassoed query images in Retrieval's query list (other points are "
                             "ignored)")
        self.send.setEnabled(False)
        self.clear = QPushButton("Clear")
        self.clear.setEnabled(False)


class NeighbourBox:
    def __init__(self) -> None:
        self.title = QLabel("<span style='color:#777'>Click a point: its 10 nearest neighbours in the embedding "
                            "(not the projection) show here.</span>")
        wrap_anywhere(self.title)   # it names the selected image's file
        self.list = NeighbourList()
        self.widget = QWidget()
        layout = vbox(self.title, (self.list, 1))
        layout.setContentsMargins(0, 0, 0, 0)
        self.widget.setLayout(layout)


class BusyRow(QWidget):
    """An indeterminate bar, the seconds since the computation started, and Cancel (hidden while idle)."""

    cancelled = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)
        self.bar.setMaximumHeight(14)
        self.bar.setTextVisible(False)
        self.elapsed = QLabel("")
        self.cancel = QPushButton("Cancel")
        self.cancel.setToolTip("stop this computation; the plots shown stay")
        self.cancel.clicked.connect(self.cancelled)
        layout = hbox((self.bar, 1), self.elapsed, self.cancel)
        layout.setContentsMargins(0, 0, 0, 0)
        self.setLayout(layout)
        self.clock = QElapsedTimer()
        self.timer = QTimer(self)
        self.timer.setInterval(500)
        self.timer.timeout.connect(self._tick)
        self.hide()

    def set_busy(self, busy: bool) -> None:
        if busy:
            self.clock.start()
            self.elapsed.setText("0 s")
            self.timer.start()
            self.show()
        else:
            self.timer.stop()
            self.hide()

    def _tick(self) -> None:
        self.elapsed.setText(f"{self.clock.elapsed() // 1000} s")
