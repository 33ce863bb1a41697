"""Labels of the Training panel that never widen the window, whatever text they get.

:class:`ElidedLabel` shows one line elided to the width it is given (the full text in its tooltip);
:func:`never_widen` makes a word-wrapped label take its width from the layout rather than from its
longest word (a long path in an error message would otherwise widen the window for good).
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


class ElidedLabel(QLabel):
    """A one-line plain-text label elided (in the middle by default) to its width; ``text()`` stays whole."""

    def __init__(self, text: str = "", elide=Qt.TextElideMode.ElideMiddle, parent=None) -> None:
        super().__init__(text, parent)
        self.elide_mode = elide
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self._update_tooltip()

    def setText(self, text: str) -> None:  # noqa: N802 (Qt name)
        super().setText(text)
        self._update_tooltip()

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        return QSize(0, super().minimumSizeHint().height())

    def shown_text(self) -> str:
        """The text as drawn at the current width."""
        return self.fontMetrics().elidedText(self.text(), self.elide_mode, max(0, self.contentsRect().width()))

    def is_elided(self) -> bool:
        return self.shown_text() != self.text()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        self._update_tooltip()

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt name)
        painter = QPainter(self)
        painter.setFont(self.font())
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawText(self.contentsRect(), int(self.alignment()), self.shown_text())

    def _update_tooltip(self) -> None:
        self.setToolTip(self.text() if self.is_elided() else "")


def never_widen(label: QWidget) -> QWidget:
    """Let the layout set ``label``'s width (word-wrapped text reflows; an unbreakable word is clipped)."""
    policy = label.sizePolicy()
    policy.setHorizontalPolicy(QSizePolicy.Policy.Ignored)
    label.setSizePolicy(policy)
    return label
