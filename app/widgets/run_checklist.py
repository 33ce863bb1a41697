"""A checkable list of runs (which runs to compare in Saliency / Modality gap), drawn from an
:class:`app.state.analysis.AnalysisState`: it lists ``state.rows`` with ``state.checked`` ticked, and a
tick (by hand, or :meth:`set_checked`) is written to the state."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QListWidget, QListWidgetItem

from app.state.runs import method_title


class RunChecklist(QListWidget):
    def __init__(self, state, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.setMaximumHeight(130)
        self.itemChanged.connect(lambda _item: self.state.set_checked(self._ticked()))
        for signal in (state.reset, state.rows_changed):
            signal.connect(self._draw_rows)
        state.checked_changed.connect(self._draw_ticks)
        self._draw_rows()

    def _draw_rows(self, *_) -> None:
        self.blockSignals(True)   # drawing the state is no tick by hand
        self.clear()
        for row in self.state.rows:
            status = "" if row.status == "completed" else f"  ({row.status})"
            label = f"{row.name} — {method_title(row.method)}{status}"
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, str(row.path))
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setToolTip(str(row.path))
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
