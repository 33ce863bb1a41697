"""Small layout helpers so panels read as a list of parts rather than layout boilerplate."""

from __future__ import annotations

from PySide6.QtWidgets import QBoxLayout, QHBoxLayout, QLayout, QVBoxLayout, QWidget

STRETCH = "stretch"


def _fill(layout: QBoxLayout, items) -> QBoxLayout:
    """Items: a widget, a layout, ``(widget_or_layout, stretch)``, :data:`STRETCH`, or an int spacing."""
    for item in items:
        stretch = 0
        if isinstance(item, tuple):
            item, stretch = item
        if item == STRETCH:
            layout.addStretch(1)
        elif isinstance(item, int):
            layout.addSpacing(item)
        elif isinstance(item, QLayout):
            layout.addLayout(item, stretch)
        else:
            layout.addWidget(item, stretch)
    return layout


def hbox(*items, margins: int | None = 0) -> QHBoxLayout:
    layout = QHBoxLayout()
    if margins is not None:
        layout.setContentsMargins(margins, margins, margins, margins)
    return _fill(layout, items)


def vbox(*items, margins: int | None = 0) -> QVBoxLayout:
    layout = QVBoxLayout()
    if margins is not None:
        layout.setContentsMargins(margins, margins, margins, margins)
    return _fill(layout, items)


def widget_of(layout: QLayout) -> QWidget:
    """Wrap a layout in a plain widget (for splitters)."""
    holder = QWidget()
    holder.setLayout(layout)
    return holder
