"""A read-only, monospaced process log that keeps the last lines and follows the end."""

from __future__ import annotations

from PySide6.QtGui import QFontDatabase, QTextCursor
from PySide6.QtWidgets import QPlainTextEdit


class LogView(QPlainTextEdit):
    def __init__(self, max_lines: int = 5000, placeholder: str = "", parent=None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setMaximumBlockCount(max_lines)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setPlaceholderText(placeholder)

    def append_text(self, text: str) -> None:
        """Append process output; carriage-return progress updates keep only their last state."""
        text = "\n".join(line.rsplit("\r", 1)[-1] for line in text.split("\n"))
        at_end = self.verticalScrollBar().value() >= self.verticalScrollBar().maximum() - 4
        cursor = self.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(text)
        if at_end:
            self.verticalScrollBar().setValue(self.verticalScrollBar().maximum())

    def set_text(self, text: str) -> None:
        self.setPlainText("")
        self.append_text(text)
