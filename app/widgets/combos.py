"""Refilling a combo box from state: the items change, no signal goes out (drawing is no choice by hand)."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox


def refill_texts(combo: QComboBox, texts: list[str], current: str) -> None:
    """Show ``texts`` with ``current`` chosen when it is among them, without emitting."""
    combo.blockSignals(True)
    combo.clear()
    combo.addItems(texts)
    if current in texts:
        combo.setCurrentText(current)
    combo.blockSignals(False)


def refill_entries(combo: QComboBox, entries: list[tuple[str, object]]) -> None:
    """Show ``(text, data)`` entries, keeping the current choice when it is still there, without emitting."""
    current = combo.currentData()
    combo.blockSignals(True)
    combo.clear()
    for text, data in entries:
        combo.addItem(text, data)
    combo.setCurrentIndex(max(0, combo.findData(current)))
    combo.blockSignals(False)
