"""The Study panel's live runs table: one line per (row, seed) run of a study without statistics yet —
run, state (with the scheduler's word), job id, node, epoch reached, last error — drawn from an
:class:`app.state.study_live.LiveStudy`; each line keeps its run name for the panel."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from app.state.study_live import LIVE_COLUMNS

STATE_COLORS = {"done": "#1E7B34", "running": "#1F5FBF", "queued": "#6A4BA8", "preempted": "#9A6700",
                "stopped": "#9A6700", "failed": "#B3261E", "not started": "#6B6B6B"}
ERROR_COLUMN = LIVE_COLUMNS.index("Last error")


class StudyRunsTable(QTableWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(0, len(LIVE_COLUMNS), parent)
        self.setHorizontalHeaderLabels(LIVE_COLUMNS)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setWordWrap(False)
        self.verticalHeader().hide()
        self.setAlternatingRowColors(True)
        header = self.horizontalHeader()
        for column in range(len(LIVE_COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(ERROR_COLUMN, QHeaderView.ResizeMode.Stretch)
        self.setToolTip("Double-click a run to follow it in the Training tab")

    def show_runs(self, runs) -> None:
        """Redraw every line from ``runs`` (``LiveRun`` values), keeping the selected run selected."""
        selected = self.selected_name()
        self.setRowCount(len(runs))
        for r, run in enumerate(runs):
            for c, value in enumerate(run.cells()):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, run.name)
                item.setToolTip(run.error if c == ERROR_COLUMN and run.error else
                                f"{run.name} · row {run.row}, seed {run.seed} · {run.launcher or 'inline'}")
                if c == 1:
                    item.setForeground(QColor(STATE_COLORS.get(run.state, "#333333")))
                if c == ERROR_COLUMN:
                    item.setForeground(QColor(STATE_COLORS["failed"]))
                self.setItem(r, c, item)
            if run.name == selected:
                self.selectRow(r)

    def run_name(self, index: int) -> str | None:
        item = self.item(index, 0)
        return None if item is None else item.data(Qt.ItemDataRole.UserRole)

    def selected_name(self) -> str | None:
        rows = sorted({index.row() for index in self.selectedIndexes()})
        return self.run_name(rows[0]) if rows else None

    def states(self) -> dict[str, str]:
        """``{run: state cell}`` as drawn (for tests and screenshots)."""
        return {self.run_name(r): self.item(r, 1).text() for r in range(self.rowCount())}
