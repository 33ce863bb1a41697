"""The Training panel's "Hyper-parameters" table (TensorBoard's HParams view): one row per run, the
config keys that differ between the runs as columns, the final mAP / R1 last.

It draws an :class:`app.state.hparams.HparamsTable`; a header click sorts (numbers numerically, missing
values last — :func:`app.state.hparams.sort_key`); a click on a row emits ``runClicked(path)``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from app.state.hparams import METRIC_COLUMNS, HparamsTable, cell_text, sort_key

PATH_ROLE = Qt.ItemDataRole.UserRole
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
COLUMN_MAX_PX = 150
NO_KEYS_HINT = "no config key differs between these runs"


class _SortableItem(QTableWidgetItem):
    def __lt__(self, other) -> bool:  # Qt's sort asks each pair
        return self.data(SORT_ROLE) < other.data(SORT_ROLE)


class HparamsTableWidget(QTableWidget):
    runClicked = Signal(object)   # the run's path
    shown = Signal()              # the table came on screen (a table stale while hidden is drawn then)

    def __init__(self, parent=None) -> None:
        super().__init__(0, 0, parent)
        self.table = HparamsTable(("run", *METRIC_COLUMNS), ())
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.horizontalHeader().setTextElideMode(Qt.TextElideMode.ElideLeft)   # "…weight_decay": the key's end
        self.horizontalHeader().setStretchLastSection(False)
        self.setSortingEnabled(True)
        self.cellClicked.connect(self._clicked)
        self.verticalHeader().sectionClicked.connect(lambda r: self._clicked(r, 0))
        self.model().layoutChanged.connect(self._name_rows)   # after each sort (row headers stay put)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().showEvent(event)
        self.shown.emit()

    def set_table(self, table: HparamsTable, selected: Path | None = None) -> None:
        """Draw ``table`` (keeping the sort the user chose) and highlight the ``selected`` run."""
        header = self.horizontalHeader()
        sort_column, order = header.sortIndicatorSection(), header.sortIndicatorOrder()
        before = self.table.columns
        sorted_by = before[sort_column] if 0 <= sort_column < min(len(before), self.columnCount()) else ""
        self.table = table
        self.setSortingEnabled(False)
        self.clear()
        self.setColumnCount(len(table.columns))
        self.setRowCount(len(table.rows))
        self.setHorizontalHeaderLabels([header_text(title, table.columns) for title in table.columns])
        for column, title in enumerate(table.columns):
            tip = f"config key {title}" if title in table.keys else (
                f"final metric on {table.metrics_split}" if title in METRIC_COLUMNS and table.metrics_split else title)
            self.horizontalHeaderItem(column).setToolTip(tip if table.keys or column else NO_KEYS_HINT)
        for r, row in enumerate(table.rows):
            self.setItem(r, 0, self._item(row.name, row.name.lower(), row))
            for c, value in enumerate(row.values, start=1):
                item = self._item(cell_text(value), sort_key(value), row)
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.setItem(r, c, item)
        self.resizeColumnsToContents()
        for column in range(1, self.columnCount()):   # many keys: each column narrow, the key whole in its tooltip
            self.setColumnWidth(column, min(self.columnWidth(column), COLUMN_MAX_PX))
        self._name_rows()
        self.setSortingEnabled(True)
        if sorted_by in table.columns:
            self.sortByColumn(table.columns.index(sorted_by), order)
        self.show_selected(selected)

    def _name_rows(self) -> None:
        """Run names in the row header too: they stay in sight while the keys scroll to the metrics."""
        names = [self.item(r, 0).text() if self.item(r, 0) else "" for r in range(self.rowCount())]
        self.setVerticalHeaderLabels(names)

    def show_selected(self, path: Path | None) -> None:
        rows = [r for r in range(self.rowCount()) if self.item(r, 0).data(PATH_ROLE) == str(path)]
        blocked = self.blockSignals(True)
        try:
            if rows:
                self.selectRow(rows[0])
            else:
                self.clearSelection()
        finally:
            self.blockSignals(blocked)

    def column_values(self, title: str) -> list[str]:
        """The texts of a column, top to bottom as shown (for tests and exports)."""
        column = list(self.table.columns).index(title)
        return [self.item(r, column).text() for r in range(self.rowCount())]

    def _item(self, text: str, key, row) -> QTableWidgetItem:
        item = _SortableItem(text)
        item.setData(SORT_ROLE, key)
        item.setData(PATH_ROLE, str(row.path))
        item.setToolTip(f"{row.name}: {text}")
        return item

    def _clicked(self, r: int, _column: int) -> None:
        item = self.item(r, 0)
        if item is not None:
            self.runClicked.emit(Path(item.data(PATH_ROLE)))


def header_text(key: str, keys) -> str:
    """A config key as a column header: its own name where no other column has that name
    ('i2t_similarity'), else the whole key ('stage2.weight_decay'); the tooltip always has the whole key."""
    name = key.rpartition(".")[2]
    return name if sum(1 for other in keys if other.rpartition(".")[2] == name) == 1 else key
