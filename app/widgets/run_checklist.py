"""A checkable list of runs (which runs to compare in Saliency / Modality gap)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QListWidget, QListWidgetItem

from app.state.runs import method_title


class RunChecklist(QListWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setMaximumHeight(130)

    def set_runs(self, rows, checked_paths) -> None:
        """Rows from the workspace scan; keeps earlier ticks for runs still present, else ``checked_paths``."""
        previous = {Path(p) for p in self.checked_paths()} if self.count() else None
        checked = previous if previous else {Path(p) for p in checked_paths}
        self.clear()
        for row in rows:
            label = f"{row.name} — {method_title(row.method)}" + ("" if row.status == "completed" else f"  ({row.status})")
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, str(row.path))
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if row.path in checked else Qt.CheckState.Unchecked)
            item.setToolTip(str(row.path))
            self.addItem(item)

    def checked_paths(self) -> list[Path]:
        return [Path(self.item(i).data(Qt.ItemDataRole.UserRole)) for i in range(self.count())
                if self.item(i).checkState() == Qt.CheckState.Checked]

    def set_checked(self, paths) -> None:
        wanted = {Path(p) for p in paths}
        for i in range(self.count()):
            item = self.item(i)
            state = Qt.CheckState.Checked if Path(item.data(Qt.ItemDataRole.UserRole)) in wanted else Qt.CheckState.Unchecked
            item.setCheckState(state)
