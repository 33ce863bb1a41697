"""Refilling a combo box from state: the items change, no signal goes out (drawing is no choice by hand).
A combo that lists runs (:class:`RunCombo`) stays narrow and shows the part of each name that differs.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QComboBox, QStyledItemDelegate, QToolTip

from app.state.names import distinguishing_names

RUN_COMBO_CHARS = 20        # a run combo is about this many characters wide (a distinguishing name fits)
RUN_COMBO_MAX_PX = 240
POPUP_MAX_PX = 720          # the popup shows whole names up to this width (elided in the middle beyond)
POPUP_PADDING_PX = 40
WHOLE_NAME_ROLE = Qt.ItemDataRole.UserRole + 32


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


class RunCombo(QObject):
    """Makes a combo box that lists runs (``addItem(run name, data)``, as usual) narrow and its runs
    distinct: an item shows the part of its name that tells it from the other runs listed
    (:func:`app.state.names.distinguishing_names`), the popup and the tooltips the whole names, and the
    combo stays :data:`RUN_COMBO_MAX_PX` wide at most, however long the names (it never widens its row;
    a text still too long is elided in the middle). Items without data (a "—" for none) keep their text.
    ``alongside``: another combo whose runs count among "the other runs listed" (the compared runs are
    told apart from the run browsed)."""

    def __init__(self, combo: QComboBox, alongside: QComboBox | None = None) -> None:
        super().__init__(combo)
        self.combo, self.alongside = combo, alongside
        self.about = combo.toolTip()   # what the combo is for, under the run's whole name
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(RUN_COMBO_CHARS)
        combo.setMaximumWidth(RUN_COMBO_MAX_PX)
        combo.setItemDelegate(WholeNameDelegate(combo))
        combo.view().setTextElideMode(Qt.TextElideMode.ElideMiddle)
        combo.installEventFilter(self)
        for model in {combo.model(), alongside.model() if alongside is not None else combo.model()}:
            for signal in (model.rowsInserted, model.rowsRemoved, model.modelReset):
                signal.connect(self._rename)
        self._rename()

    def whole_name(self, index: int) -> str:
        """The whole name of item ``index`` (its text, if it is no run)."""
        return _whole_name(self.combo, index)

    def tooltip(self) -> str:
        """The combo's tooltip: the chosen run's whole name, then what the combo is for."""
        index = self.combo.currentIndex()
        name = self.whole_name(index) if index >= 0 and self.combo.itemData(index) is not None else ""
        return "\n\n".join(part for part in (name, self.about) if part)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt API)
        if watched is self.combo and event.type() == QEvent.Type.ToolTip:
            text = self.tooltip()
            if text:
                QToolTip.showText(event.globalPos(), text, self.combo)
            else:
                QToolTip.hideText()
            return True
        return super().eventFilter(watched, event)

    def _rename(self, *_) -> None:
        runs = _runs(self.combo)
        whole = [self.whole_name(i) for i in runs]
        others = [_whole_name(self.alongside, i) for i in _runs(self.alongside)] if self.alongside is not None else []
        listed = list(dict.fromkeys(whole + others))
        short_names = dict(zip(listed, distinguishing_names(listed)))
        metrics = self.combo.fontMetrics()
        room = metrics.horizontalAdvance("x") * RUN_COMBO_CHARS   # as QComboBox sizes itself
        for i, name in zip(runs, whole):
            text = metrics.elidedText(short_names[name], Qt.TextElideMode.ElideMiddle, room)
            self.combo.setItemData(i, name, WHOLE_NAME_ROLE)
            self.combo.setItemData(i, name, Qt.ItemDataRole.ToolTipRole)
            if self.combo.itemText(i) != text:
                self.combo.setItemText(i, text)
        widest = max((metrics.horizontalAdvance(name) for name in whole), default=0) + POPUP_PADDING_PX
        self.combo.view().setMinimumWidth(min(widest, POPUP_MAX_PX))


def _runs(combo: QComboBox) -> list[int]:
    """The items of ``combo`` that are runs (they carry data)."""
    return [i for i in range(combo.count()) if combo.itemData(i) is not None]


def _whole_name(combo: QComboBox, index: int) -> str:
    return combo.itemData(index, WHOLE_NAME_ROLE) or combo.itemText(index)


class WholeNameDelegate(QStyledItemDelegate):
    """Lists a run combo's items in its popup by their whole names."""

    def initStyleOption(self, option, index) -> None:  # noqa: N802 (Qt API)
        super().initStyleOption(option, index)
        whole = index.data(WHOLE_NAME_ROLE)
        if whole:
            option.text = whole
