"""An inline, dismissable error line shown at the top of a panel (errors reach the user in the window).

However long the message (a traceback line, a 260-character path, a run name), the banner wraps it to
the panel's width and never widens the window: its text can break after path separators and inside long
unbroken runs (:func:`app.state.names.breakable`), and the label takes its width from the layout.
*Copy* puts the message on the clipboard as it was given, without those break points.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QToolButton

from app.state.names import breakable


def wrap_anywhere(label: QLabel) -> QLabel:
    """Let the layout set ``label``'s width: word-wrapped, it reflows to whatever width it gets."""
    label.setWordWrap(True)
    policy = label.sizePolicy()
    policy.setHorizontalPolicy(QSizePolicy.Policy.Ignored)
    label.setSizePolicy(policy)
    return label


class ErrorBanner(QFrame):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("errorBanner")
        self.setStyleSheet("#errorBanner { background: #FDECEA; border: 1px solid #E0A39D; border-radius: 4px; }"
                           "#errorBanner QLabel { color: #8A1C12; }")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        self.label = wrap_anywhere(QLabel())
        self.label.setTextFormat(Qt.TextFormat.PlainText)   # a message quoting '<module>' shows as written
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.copy_button = QToolButton()   # the message as given: a selection would carry the break points
        self.copy_button.setText("Copy")
        self.copy_button.setAutoRaise(True)
        self.copy_button.setToolTip("Copy the message to the clipboard")
        self.copy_button.clicked.connect(self.copy_message)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.copy_button)
        layout.addWidget(close)
        self._message = ""
        self.hide()

    def show_error(self, message: str) -> None:
        self._message = str(message)
        self.label.setText(breakable(self._message))
        self.show()

    def copy_message(self) -> None:
        """Put the message on the clipboard as it was given (without the invisible break points)."""
        QGuiApplication.clipboard().setText(self._message)

    @property
    def message(self) -> str:
        """The message shown, as it was given ('' while the banner is hidden)."""
        return "" if self.isHidden() else self._message
