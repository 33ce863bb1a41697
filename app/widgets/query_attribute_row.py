"""The query filter bar's "Attributes" rows: occluded share, caption words, cameras, identities and tag.

Part of :class:`app.widgets.query_filter_bar.QueryFilterBar`, which reads it (``values``) into the
:class:`app.state.query_filter.QueryFilter` it emits and shows the state's filter in it (``show``). The
occlusion and caption criteria need SynthPed annotations: for other datasets they are disabled and a
grey line says so; cameras, identities and tags work for every eval."""

from __future__ import annotations

from PySide6.QtCore import QRegularExpression, Signal
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QSpinBox, QWidget

from app.state.query_attributes import parse_numbers
from app.state.query_filter import ANY_TAG, QueryFilter
from app.widgets.layout import hbox, vbox

NUMBER_LIST = QRegularExpression(r"[0-9 ,]*")


def _spin(value: int) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(0, 100)
    spin.setValue(value)
    spin.setSuffix(" %")
    spin.setKeyboardTracking(False)
    return spin


def _numbers(placeholder: str) -> QLineEdit:
    edit = QLineEdit()
    edit.setPlaceholderText(placeholder)
    edit.setValidator(QRegularExpressionValidator(NUMBER_LIST))
    edit.setClearButtonEnabled(True)
    return edit


class QueryAttributeRow(QWidget):
    changed = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.occluded_min, self.occluded_max = _spin(0), _spin(100)
        self.caption = QLineEdit()
        self.caption.setPlaceholderText("caption words…")
        self.caption.setClearButtonEnabled(True)
        self.cameras = _numbers("e.g. 1, 3")
        self.identities = _numbers("e.g. 12, 40")
        self.tag = QComboBox()
        self.tag.setMinimumContentsLength(10)
        self.set_tags([])
        self.note = QLabel("")
        self.note.setStyleSheet("color: #777;")
        self.note.setWordWrap(True)
        self._tooltips()
        self._widgets = (self.occluded_min, self.occluded_max, self.caption, self.cameras, self.identities, self.tag)
        for spin in (self.occluded_min, self.occluded_max):
            spin.valueChanged.connect(self.changed)
        for edit in (self.caption, self.cameras, self.identities):
            edit.textChanged.connect(self.changed)
        self.tag.currentIndexChanged.connect(self.changed)
        layout = vbox(hbox(QLabel("Occluded"), self.occluded_min, QLabel("–"), self.occluded_max, 8,
                           QLabel("Caption"), (self.caption, 1)),
                      hbox(QLabel("Cams"), (self.cameras, 1), QLabel("IDs"), (self.identities, 1), QLabel("Tag"),
                           self.tag),
                      self.note)
        layout.setSpacing(4)
        self.setLayout(layout)

    def _tooltips(self) -> None:
        self.occluded_min.setToolTip("Lowest occluded share of the body (SynthPed-Occluded annotations); "
                                     "30 % here: queries at least 30 % occluded")
        self.occluded_max.setToolTip("Highest occluded share (0 %: unoccluded queries only)")
        self.caption.setToolTip("Queries whose caption holds every word typed (case-insensitive, parts of words "
                                "count: 'bag' finds 'backpack bag' and 'handbag')")
        self.cameras.setToolTip("Any of these cameras, numbered as in the file names (c1 = 1), separated by commas")
        self.identities.setToolTip("Any of these person ids (the dataset's own, as the ID column), separated by "
                                   "commas")
        self.tag.setToolTip("Queries with this tag (tag queries from the table's right-click menu or the tag box)")

    # -- what the panel sets ---------------------------------------------------------------------------
    def set_tags(self, tags) -> None:
        """The tags to filter by (those in use); keeps the chosen one."""
        current = self.tag.currentData()
        self.tag.blockSignals(True)
        self.tag.clear()
        self.tag.addItem("any", "")
        self.tag.addItem("any tag", ANY_TAG)
        for tag in tags:
            self.tag.addItem(tag, tag)
        if current and self.tag.findData(current) < 0:
            self.tag.addItem(current, current)
        self.tag.setCurrentIndex(max(self.tag.findData(current or ""), 0))
        self.tag.blockSignals(False)

    def set_availability(self, captions: bool, occlusion: bool, note: str) -> None:
        """Which of the annotation criteria the eval shown can use, and the line that says why not."""
        self.caption.setEnabled(captions)
        self.occluded_min.setEnabled(occlusion)
        self.occluded_max.setEnabled(occlusion)
        self.note.setText(note)
        self.note.setVisible(bool(note))

    # -- reading and showing -----------------------------------------------------------------------------
    def values(self) -> dict:
        """The QueryFilter fields of this row."""
        low, high = sorted((self.occluded_min.value(), self.occluded_max.value()))
        return {"occluded_min": low / 100, "occluded_max": high / 100, "caption_words": self.caption.text(),
                "cameras": parse_numbers(self.cameras.text()), "identities": parse_numbers(self.identities.text()),
                "tag": self.tag.currentData() or ""}

    def show_filter(self, f: QueryFilter) -> None:
        for widget in self._widgets:
            widget.blockSignals(True)
        self.occluded_min.setValue(round(100 * f.occluded_min))
        self.occluded_max.setValue(round(100 * f.occluded_max))
        if self.caption.text() != f.caption_words:
            self.caption.setText(f.caption_words)
        if tuple(sorted(set(parse_numbers(self.cameras.text())))) != f.cameras:
            self.cameras.setText(", ".join(map(str, f.cameras)))
        if tuple(sorted(set(parse_numbers(self.identities.text())))) != f.identities:
            self.identities.setText(", ".join(map(str, f.identities)))
        if f.tag and self.tag.findData(f.tag) < 0:
            self.tag.addItem(f.tag, f.tag)
        self.tag.setCurrentIndex(max(self.tag.findData(f.tag), 0))
        for widget in self._widgets:
            widget.blockSignals(False)
