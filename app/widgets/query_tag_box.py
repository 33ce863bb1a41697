"""A small tag box under the query list: pick or type a tag, tag the selected queries or take it off.

The panel does the tagging (``tagClicked`` / ``untagClicked`` with the tag); when tags cannot be kept (no
workspace, an unreadable tag file) the box is disabled with the reason as its tooltip."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QLabel, QPushButton, QWidget

from app.widgets.layout import hbox

TIP = "Tag the selected queries (Ctrl/Shift-click rows to select several); tags are kept in the workspace"


class QueryTagBox(QWidget):
    tagClicked = Signal(str)
    untagClicked = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.tag = QComboBox()
        self.tag.setEditable(True)
        self.tag.setMinimumContentsLength(10)
        self.tag.lineEdit().setPlaceholderText("tag…")
        self.tag_button = QPushButton("Tag")
        self.untag_button = QPushButton("Untag")
        self.tag_button.clicked.connect(lambda: self.tagClicked.emit(self.tag.currentText()))
        self.tag.lineEdit().returnPressed.connect(lambda: self.tagClicked.emit(self.tag.currentText()))
        self.untag_button.clicked.connect(lambda: self.untagClicked.emit(self.tag.currentText()))
        self.untag_button.setToolTip("Take this tag off the selected queries")
        self.setLayout(hbox(QLabel("Tag selected"), (self.tag, 1), self.tag_button, self.untag_button))
        self.set_available(True)

    def set_tags(self, tags) -> None:
        """The tags offered (the suggested ones, then those in use); keeps what is typed."""
        text = self.tag.currentText()
        self.tag.blockSignals(True)
        self.tag.clear()
        self.tag.addItems(list(tags))
        self.tag.setCurrentText(text or (self.tag.itemText(0) if self.tag.count() else ""))
        self.tag.blockSignals(False)

    def set_available(self, available: bool, reason: str = "") -> None:
        self.setEnabled(available)
        for widget in (self.tag, self.tag_button, self.untag_button):
            widget.setToolTip(TIP if available else f"Tagging is off: {reason}")
