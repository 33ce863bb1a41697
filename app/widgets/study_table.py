"""The Study panel's rows table: one line per row of the plan, drawn from
:class:`app.state.study.StudyTableRow` values; each line keeps its row name for the panel."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

HEADERS = ("Row", "Preset", "mAP % [95 % CI]", "R1 % [95 % CI]", "Seeds", "mAP % per seed")
NUMERIC_COLUMNS = (2, 3, 4, 5)


class StudyTable(QTableWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(0, len(HEADERS), parent)
        self.setHorizontalHeaderLabels(HEADERS)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.verticalHeader().hide()
        self.setAlternatingRowColors(True)
        header = self.horizontalHeader()
        for column in range(len(HEADERS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.setToolTip("Double-click a row to open its first finished seed's run in the Training tab")

    def show_rows(self, rows) -> None:
        self.clearSelection()
        self.setRowCount(len(rows))
        for r, row in enumerate(rows):
            title = f"{row.title} (reference)" if row.is_reference else row.title
            seeds = row.seeds + (f" (missing {', '.join(map(str, row.missing))})" if row.missing else "")
            values = (title, row.preset, row.mAP, row.R1, seeds, row.per_seed_mAP)
            for c, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, row.name)
                if c in NUMERIC_COLUMNS:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if c == 0 and row.is_reference:
                    bold = QFont()
                    bold.setBold(True)
                    item.setFont(bold)
                item.setToolTip(row.per_seed_tooltip if c == 5 else f"{row.name} · {row.preset}")
                self.setItem(r, c, item)

    def row_name(self, index: int) -> str | None:
        item = self.item(index, 0)
        return None if item is None else item.data(Qt.ItemDataRole.UserRole)

    def selected_row_name(self) -> str | None:
        rows = sorted({index.row() for index in self.selectedIndexes()})
        return self.row_name(rows[0]) if rows else None
