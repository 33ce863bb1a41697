"""The retrieval browser's query list: a Qt model over ``app.state.retrieval.RetrievalState``, and
which sort a header click picks (with the header's sort indicator that shows it)."""

from __future__ import annotations

import math

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from app.state.retrieval import camera_number

HEADERS = ("#", "Query", "ID", "Cam", "AP %", "1st hit", "Δ AP")
DELTA_COLUMN = 6
SORT_FOR_COLUMN = {4: ("ap_ascending", "ap_descending"), 5: ("first_hit_descending", "first_hit_descending"),
                   0: ("query_order", "query_order"), DELTA_COLUMN: ("delta_ascending", "delta_descending")}
ASCENDING, DESCENDING = Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder
SORT_INDICATOR = {"ap_ascending": (4, ASCENDING), "ap_descending": (4, DESCENDING),
                  "first_hit_descending": (5, DESCENDING), "query_order": (0, ASCENDING),
                  "delta_ascending": (DELTA_COLUMN, ASCENDING), "delta_descending": (DELTA_COLUMN, DESCENDING)}

COLUMN_WIDTHS = {0: 48, 2: 44, 3: 48, 4: 58, 5: 64, 6: 62}   # columns other than the (stretching) name
HEADER_STYLE = "QHeaderView::section { padding: 3px 14px 3px 4px; }"   # room for the sort indicator


def build_query_table(model, row_height: int) -> QTableView:
    """The query list's view: one selected row at a time, fixed column widths (ResizeToContents would
    visit every query), fixed row heights, and Qt's sort indicator on the sorting column."""
    table = QTableView()
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.verticalHeader().hide()
    table.setAlternatingRowColors(True)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
    header.setSortIndicatorShown(True)
    header.setStyleSheet(HEADER_STYLE)
    for column, width in COLUMN_WIDTHS.items():
        table.setColumnWidth(column, width)
    table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    table.verticalHeader().setDefaultSectionSize(row_height)
    return table


def sort_after_click(section: int, current: str) -> str | None:
    """The sort a click on ``section`` picks: its first order, or the other one when the column already
    sorts the list (None: the column does not sort)."""
    choices = SORT_FOR_COLUMN.get(section)
    if choices is None:
        return None
    if current == choices[0]:
        return choices[1]
    return choices[0]


class QueryTableModel(QAbstractTableModel):
    """Rows = the state's visible queries. 1st hit is the 1-based rank of the first true match."""

    def __init__(self, state=None, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.rows = state.visible_rows() if state is not None else []

    def set_state(self, state) -> None:
        self.beginResetModel()
        self.state = state
        self.rows = state.visible_rows() if state is not None else []
        self.endResetModel()

    def refresh(self) -> None:
        self.set_state(self.state)

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 (Qt API)
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return len(HEADERS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return HEADERS[section]
        if role == Qt.ItemDataRole.ToolTipRole and orientation == Qt.Orientation.Horizontal:
            return {3: "camera of the query, numbered as in the file names (c1, c2, …)",
                    4: "average precision of the query (click: worst first / best first)",
                    5: "rank of the first true match after junk removal (1 = correct at rank 1)",
                    DELTA_COLUMN: "AP of this run minus AP of the run chosen under 'vs', in points (click: "
                                  "where this run loses most first / wins most first)"}.get(section)
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        row = self.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return str(row.index)
            if column == 1:
                return row.name
            if column == 2:
                return str(row.pid)
            if column == 3:
                return f"c{camera_number(row.camid)}"
            if column == 4:
                return "—" if math.isnan(row.ap) else f"{100 * row.ap:.1f}"
            if column == 5:
                return "—" if row.first_hit < 0 else str(row.first_hit + 1)
            if column == DELTA_COLUMN:
                delta = self.state.delta(row.index)
                return "—" if math.isnan(delta) else f"{100 * delta:+.1f}"
        if role == Qt.ItemDataRole.ForegroundRole and column == DELTA_COLUMN:
            delta = self.state.delta(row.index)
            return QColor("#888888") if math.isnan(delta) or abs(delta) < 1e-9 else \
                QColor("#1E7B34") if delta > 0 else QColor("#B3261E")
        if role == Qt.ItemDataRole.ForegroundRole and column in (4, 5):
            if not row.evaluated:
                return QColor("#888888")
            return QColor("#B3261E") if row.is_failure else QColor("#1E7B34")
        if role == Qt.ItemDataRole.TextAlignmentRole and column != 1:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            if not row.evaluated:
                return f"{row.path}\nno true match in the gallery: skipped by the protocol"
            return row.path
        if role == Qt.ItemDataRole.UserRole:
            return row.index
        return None
