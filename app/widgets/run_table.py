"""The run table of the Training panel, drawn from ``app.state.runs.RunListState``.

The table subscribes to the state and redraws when its rows, ticks or statuses change. Clicking a row
selects the run in the state (the panel, subscribed too, shows its details, log and, while no run is
ticked, its plots); the tick in front of a name overlays that run with the other ticked ones, each in
the colour its swatch shows. Rows the state's run filter does not match are hidden.
Names are shown whole where they fit; otherwise by the part that tells them from the other runs listed
(``…gate_off…`` / ``…gate_on…``, :mod:`app.widgets.run_names`), elided in the middle if even that is too
long; the tooltip has the full name.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from app.state.names import distinguishing_names
from app.state.runs import COLUMNS, format_percent
from app.widgets.plotting import PALETTE
from app.widgets.run_names import SHORT_TEXT_ROLE, RunNameDelegate

HEADERS = {"name": "Run", "method": "Method", "dataset": "Evaluated on", "status": "Status", "mAP": "mAP %", "R1": "R1 %"}
STATUS_COLORS = {"damaged": "#8A1C12", "completed": "#1E7B34", "running": "#1F5FBF", "starting": "#1F5FBF",
                 "queued": "#6A4BA8", "stopped": "#9A6700",
                 "failed": "#B3261E", "killed": "#B3261E", "running-or-killed": "#6B6B6B", "not-started": "#6B6B6B"}
DATASET_COLUMN_MAX_PX = 120   # "Evaluated on" gives way to the run names (elided, full text in the tooltip)


class RunTable(QTableWidget):
    """Draws the state; a click selects, a tick overlays and the header sorts — all through the state."""

    def __init__(self, state, parent=None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.state = state
        self.setHorizontalHeaderLabels([HEADERS[c] for c in COLUMNS])
        self.horizontalHeaderItem(0).setToolTip("Tick runs to overlay their curves")
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setItemDelegateForColumn(COLUMNS.index("name"), RunNameDelegate(self))
        self.setWordWrap(False)
        self.verticalHeader().hide()
        self.setAlternatingRowColors(True)
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COLUMNS.index("dataset"), QHeaderView.ResizeMode.Interactive)
        header.setSectionsClickable(True)
        header.sectionClicked.connect(self._sort_by_section)
        self.itemSelectionChanged.connect(self._emit_selection)
        self.itemChanged.connect(self._on_item_changed)
        self._refreshing = False
        state.rows_changed.connect(self.refresh)
        state.statuses_changed.connect(self.refresh)
        state.overlay_changed.connect(self._refresh_soon)   # may come while Qt still holds a ticked item
        state.selection_changed.connect(self._show_selection)

    def refresh(self) -> None:
        """Redraw every row from the state and restore the selection."""
        self._refreshing = True
        try:
            self.setRowCount(len(self.state.rows))
            colours = dict(self.state.plotted()) if len(self.state.plotted()) > 1 else {}
            short_names = distinguishing_names([row.name for row in self.state.rows])
            for r, (row, short_name) in enumerate(zip(self.state.rows, short_names)):
                for c, item in enumerate(self._row_items(row, colours.get(row.path), short_name)):
                    self.setItem(r, c, item)
                self.setRowHidden(r, not self.state.shown(row))   # the run filter (a regex over names)
            self._fit_dataset_column()
        finally:
            self._refreshing = False
        self._show_selection()

    def _refresh_soon(self) -> None:
        QTimer.singleShot(0, self, self.refresh)

    def _show_selection(self) -> None:
        """Highlight the state's selected row (no-op when it already is: a click selected it)."""
        selected = self.state.index_of(self.state.selected) if self.state.selected else None
        current = {index.row() for index in self.selectedIndexes()}
        if current == ({selected} if selected is not None else set()):
            return
        self._refreshing = True
        try:
            if selected is None:
                self.clearSelection()
            else:
                self.selectRow(selected)
        finally:
            self._refreshing = False

    def _row_items(self, row, colour: int | None, short_name: str) -> list[QTableWidgetItem]:
        status = self.state.status_of(row)
        mark = " ‡" if row.test_selected else ""  # chosen on the test set: the tooltip says so
        values = {"name": row.name, "method": row.method, "dataset": row.metrics_split,
                  "status": self.state.status_text(row),
                  "mAP": format_percent(row.mAP) + mark, "R1": format_percent(row.R1) + mark}
        items = []
        for column in COLUMNS:
            item = QTableWidgetItem(values[column])
            item.setData(Qt.ItemDataRole.UserRole, str(row.path))
            item.setToolTip(f"{row.name}\n{row.path}\n{row.metrics_tooltip()}")
            if column == "name":
                item.setData(SHORT_TEXT_ROLE, short_name)
            if column == "name" and not row.damaged:
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                ticked = row.path in self.state.overlaid
                item.setCheckState(Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked)
                if colour is not None:
                    item.setData(Qt.ItemDataRole.DecorationRole, QColor(PALETTE[colour % len(PALETTE)]))
            if column == "status":
                item.setForeground(QColor(STATUS_COLORS.get(status, "#333333")))
            if column in ("mAP", "R1"):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            items.append(item)
        return items

    def _fit_dataset_column(self) -> None:
        column = COLUMNS.index("dataset")
        self.resizeColumnToContents(column)
        self.setColumnWidth(column, min(self.columnWidth(column), DATASET_COLUMN_MAX_PX))

    def _emit_selection(self) -> None:
        if self._refreshing:
            return
        rows = {index.row() for index in self.selectedIndexes()}
        path = Path(self.item(min(rows), 0).data(Qt.ItemDataRole.UserRole)) if rows else None
        self.state.select(path)

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if self._refreshing or item.column() != 0 or not item.flags() & Qt.ItemFlag.ItemIsUserCheckable:
            return
        self.state.set_overlaid(Path(item.data(Qt.ItemDataRole.UserRole)), item.checkState() == Qt.CheckState.Checked)

    def _sort_by_section(self, section: int) -> None:
        column = COLUMNS[section]
        descending = not self.state.descending if self.state.sort_column == column else column in ("mAP", "R1")
        self.state.sort_by(column, descending)
