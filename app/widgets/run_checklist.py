"""A checkable list of runs (which runs to compare in Saliency / Modality gap), drawn from an
:class:`app.state.analysis.AnalysisState`: it lists ``state.rows`` with ``state.checked`` ticked, and a
tick (by hand, or :meth:`set_checked`) is written to the state. A name too long for the list shows by the
part that tells it from the other runs listed (:mod:`app.widgets.run_names`); the tooltip has it whole."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QListWidget, QListWidgetItem

from app.state.names import distinguishing_names
from app.state.runs import method_title
from app.widgets.run_names import SHORT_TEXT_ROLE, RunNameDelegate


class RunChecklist(QListWidget):
    def __init__(self, state, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.setMaximumHeight(130)
        self.setItemDelegate(RunNameDelegate(self))
        self.itemChanged.connect(lambda _item: self.state.set_checked(self._ticked()))
        for signal in (state.reset, state.rows_changed):
            signal.connect(self._draw_rows)
        state.checked_changed.connect(self._draw_ticks)
        self._draw_rows()

    def _draw_rows(self, *_) -> None:
        self.blockSignals(True)   # drawing the state is no tick by hand
        self.clear()
        for row, short_name in zip(self.state.rows, distinguishing_names([row.name for row in self.state.rows])):
            status = "" if row.status == "completed" else f"  ({row.status})"
            about = f" — {method_title(row.method)}{status}"
            item = QListWidgetItem(row.name + about)
            item.setData(SHORT_TEXT_ROLE, short_name + about)
            item.setData(Qt.ItemDataRole.UserRole, str(row.path))
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setToolTip(f"{row.name}\n{row.path}")
            self.addItem(item)
        self.blockSignals(False)
        self._draw_ticks()

    def _draw_ticks(self, *_) -> None:
        checked = set(self.state.checked)
        self.blockSignals(True)
        for i in range(self.count()):
            item = self.item(i)
            ticked = Path(item.data(Qt.ItemDataRole.UserRole)) in checked
            item.setCheckState(Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked)
        self.blockSignals(False)

    def _ticked(self) -> list[Path]:
        return [Path(self.item(i).data(Qt.ItemDataRole.UserRole)) for i in range(self.count())
                if self.item(i).checkState() == Qt.CheckState.Checked]

    def checked_paths(self) -> list[Path]:
        return list(self.state.checked)

    def set_checked(self, paths) -> None:
        """Tick exactly the runs at ``paths`` (in the state: the list follows)."""
        self.state.set_checked(paths)
