"""Run names in item views (the Training table, the run checklists, the Modality-gap table).

An item holds a run's whole name (its text, and the first line of its tooltip) and, in
:data:`SHORT_TEXT_ROLE`, the text with the name's distinguishing part (:func:`app.state.names.
distinguishing_names`: ``…gate_off…``). :class:`RunNameDelegate` draws the whole text where it fits and
the short one where it does not, so runs that differ in the middle of their names never look alike.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import (QAbstractItemView, QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem,
                               QTableWidget)

from app.state.names import distinguishing_names

SHORT_TEXT_ROLE = Qt.ItemDataRole.UserRole + 31


class RunNameDelegate(QStyledItemDelegate):
    """Draws an item's text whole where it fits its cell, else its :data:`SHORT_TEXT_ROLE` text (elided
    by the view's elide mode if even that is too long)."""

    def initStyleOption(self, option: QStyleOptionViewItem, index: QModelIndex) -> None:  # noqa: N802 (Qt API)
        super().initStyleOption(option, index)
        short = index.data(SHORT_TEXT_ROLE)
        if short and short != option.text and option.fontMetrics.horizontalAdvance(option.text) > _text_width(option):
            option.text = short

    def shown_text(self, view: QAbstractItemView, index: QModelIndex) -> str:
        """The text drawn for ``index`` at the view's present size, elided as the view elides it."""
        option = QStyleOptionViewItem()
        option.initFrom(view)
        option.font = view.font()
        option.rect = view.visualRect(index)
        option.widget = view
        option.textElideMode = view.textElideMode()
        self.initStyleOption(option, index)
        return option.fontMetrics.elidedText(option.text, option.textElideMode, _text_width(option))


def _text_width(option: QStyleOptionViewItem) -> int:
    """The width the text gets in the cell (after the check box, the icon and the margins)."""
    style = option.widget.style() if option.widget is not None else QApplication.style()
    rect = style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, option, option.widget)
    margin = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, option.widget) + 1
    return rect.width() - 2 * margin


def show_run_names(table: QTableWidget, column: int) -> None:
    """Let ``table``'s ``column`` of run names, as filled, show each name whole where it fits and by its
    distinguishing part where it does not; each item's tooltip has the whole name."""
    if not isinstance(table.itemDelegateForColumn(column), RunNameDelegate):
        table.setItemDelegateForColumn(column, RunNameDelegate(table))
    items = [item for item in (table.item(row, column) for row in range(table.rowCount())) if item is not None]
    for item, short_name in zip(items, distinguishing_names([item.text() for item in items])):
        item.setData(SHORT_TEXT_ROLE, short_name)
        item.setToolTip(item.text())
