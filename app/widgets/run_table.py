"""The run table of the Training panel, drawn from ``app.state.runs.RunListState``."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from app.state.runs import COLUMNS, format_percent

HEADERS = {"name": "Run", "method": "Method", "dataset": "Evaluated on", "status": "Status", "mAP": "mAP %", "R1": "R1 %"}
STATUS_COLORS = {"damaged": "#8A1C12", "completed": "#1E7B34", "running": "#1F5FBF", "starting": "#1F5FBF", "stopped": "#9A6700",
                 "failed": "#B3261E", "running-or-killed": "#6B6B6B", "not-started": "#6B6B6B"}


class RunTable(QTableWidget):
    """Emits ``runSelected(Path | None)``; the header sorts (through the state, not Qt)."""

    runSelected = Signal(object)

    def __init__(self, state, parent=None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.state = state
        self.setHorizontalHeaderLabels([HEADERS[c] for c in COLUMNS])
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.verticalHeader().hide()
        self.setAlternatingRowColors(True)
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionsClickable(True)
        header.sectionClicked.connect(self._sort_by_section)
        self.itemSelectionChanged.connect(self._emit_selection)
        self._refreshing = False

    def refresh(self) -> None:
        """Redraw every row from the state and restore the selection."""
        self._refreshing = True
        try:
            self.setRowCount(len(self.state.rows))
            for r, row in enumerate(self.state.rows):
                status = self.state.status_of(row)
                mark = " ‡" if row.test_selected else ""  # chosen on the test set: the tooltip says so
                values = {"name": row.name, "method": row.method, "dataset": row.metrics_split, "status": status,
                          "mAP": format_percent(row.mAP) + mark, "R1": format_percent(row.R1) + mark}
                for c, column in enumerate(COLUMNS):
                    item = QTableWidgetItem(values[column])
                    item.setData(Qt.ItemDataRole.UserRole, str(row.path))
                    item.setToolTip(f"{row.path}\n{row.metrics_tooltip()}")
                    if column == "status":
                        item.setForeground(QColor(STATUS_COLORS.get(status, "#333333")))
                    if column in ("mAP", "R1"):
                        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    self.setItem(r, c, item)
            selected = self.state.index_of(self.state.selected) if self.state.selected else None
            if selected is None:
                self.clearSelection()
            else:
                self.selectRow(selected)
        finally:
            self._refreshing = False

    def _emit_selection(self) -> None:
        if self._refreshing:
            return
        rows = {index.row() for index in self.selectedIndexes()}
        path = Path(self.item(min(rows), 0).data(Qt.ItemDataRole.UserRole)) if rows else None
        self.state.select(path)
        self.runSelected.emit(path)

    def _sort_by_section(self, section: int) -> None:
        column = COLUMNS[section]
        descending = not self.state.descending if self.state.sort_column == column else column in ("mAP", "R1")
        self.state.sort_by(column, descending)
        self.refresh()
