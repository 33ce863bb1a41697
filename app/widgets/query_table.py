"""The retrieval browser's query list: a Qt model over ``app.state.retrieval.RetrievalState``, the table
that follows an ``app.state.retrieval_browser.RetrievalBrowser`` (rows, selected query, Δ AP and tag
columns, sort indicator) and writes a clicked query back to it, and which sort a header click picks.
Several rows can be selected (Ctrl/Shift-click) to tag them together: the right-click menu offers the
tags (``tagRequested`` / ``untagRequested`` with the selected queries' indices)."""

from __future__ import annotations

import math

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QMenu, QTableView

from app.state.retrieval import camera_number

HEADERS = ("#", "Query", "ID", "Cam", "AP %", "1st hit", "Δ AP", "Tags")
DELTA_COLUMN, TAGS_COLUMN = 6, 7
SORT_FOR_COLUMN = {4: ("ap_ascending", "ap_descending"), 5: ("first_hit_descending", "first_hit_descending"),
                   0: ("query_order", "query_order"), DELTA_COLUMN: ("delta_ascending", "delta_descending")}
ASCENDING, DESCENDING = Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder
SORT_INDICATOR = {"ap_ascending": (4, ASCENDING), "ap_descending": (4, DESCENDING),
                  "first_hit_descending": (5, DESCENDING), "query_order": (0, ASCENDING),
                  "delta_ascending": (DELTA_COLUMN, ASCENDING), "delta_descending": (DELTA_COLUMN, DESCENDING)}

COLUMN_WIDTHS = {0: 48, 2: 44, 3: 48, 4: 58, 5: 64, 6: 62, 7: 120}   # columns other than the (stretching) name
HEADER_STYLE = "QHeaderView::section { padding: 3px 14px 3px 4px; }"   # room for the sort indicator


class QueryTable(QTableView):
    """The query list's view: the shown query is the current row (more rows can be selected for tagging), fixed
    column widths (ResizeToContents would
    visit every query), fixed row heights, and Qt's sort indicator on the sorting column.

    Subscribes to ``browser``: the eval shown and its rows reset the model, the selected query is the
    selected row, a comparison repaints the Δ AP column, the sort moves the indicator. A click selects
    its query in the eval shown (``RetrievalState.select``), nothing else."""

    tagRequested = Signal(list, str)      # query indices, tag ('' = ask for a tag)
    untagRequested = Signal(list, object)   # query indices, tag (None = every tag)

    def __init__(self, browser, row_height: int, parent=None) -> None:
        super().__init__(parent)
        self.browser = browser
        self.query_model = QueryTableModel(parent=self)
        self.setModel(self.query_model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._context_menu)
        self.suggested_tags: list[str] = []   # offered in the right-click menu (the panel sets them)
        self.tagging_enabled = True
        self.verticalHeader().hide()
        self.setAlternatingRowColors(True)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSortIndicatorShown(True)
        header.setStyleSheet(HEADER_STYLE)
        for column, width in COLUMN_WIDTHS.items():
            self.setColumnWidth(column, width)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.verticalHeader().setDefaultSectionSize(row_height)
        self.selectionModel().selectionChanged.connect(self._row_clicked)
        browser.eval_changed.connect(self._show_eval)
        browser.rows_changed.connect(self._show_rows)
        browser.selection_changed.connect(self._show_selection)
        browser.reference_changed.connect(self.query_model.delta_changed)
        browser.extras_changed.connect(self.query_model.tags_changed)
        browser.sort_changed.connect(self.show_sort)
        self.show_sort()

    def _show_eval(self, *_) -> None:
        self.query_model.set_state(self.browser.state)
        self._show_rows()
        self.show_sort()

    def _show_rows(self) -> None:
        self.query_model.refresh()
        self._show_selection()

    def _show_selection(self, *_) -> None:
        state = self.browser.state
        r = self.query_model.position_of(state.selected) if state is not None else None
        selected = {index.row() for index in self.selectionModel().selectedRows()}
        if r is None:
            self.clearSelection()
        elif r not in selected:   # a query selected elsewhere; several rows selected for tagging stay
            self.selectRow(r)

    def show_sort(self, *_) -> None:
        """The header's indicator on the column (and in the order) of the browser's sort."""
        column, order = SORT_INDICATOR[self.browser.sort_key]
        self.horizontalHeader().setSortIndicator(column, order)

    def _row_clicked(self, *_) -> None:
        rows = {index.row() for index in self.selectionModel().selectedRows()}
        current = self.currentIndex().row()
        if self.browser.state is not None and rows:
            row = current if current in rows else min(rows)
            self.browser.state.select(self.query_model.rows[row].index)

    def selected_queries(self) -> list[int]:
        """The query indices of the selected rows, in list order."""
        rows = sorted(index.row() for index in self.selectionModel().selectedRows())
        return [self.query_model.rows[r].index for r in rows if r < len(self.query_model.rows)]

    def _context_menu(self, position) -> None:
        queries = self.selected_queries()
        if not queries or self.browser.state is None:
            return
        menu = self.tag_menu(queries)
        menu.exec(self.viewport().mapToGlobal(position))

    def tag_menu(self, queries: list[int]) -> QMenu:
        """The right-click menu for these queries: tag them, or take a tag off."""
        menu = QMenu(self)
        count = f"{len(queries)} quer{'ies' if len(queries) != 1 else 'y'}"
        for tag in self.suggested_tags:
            menu.addAction(f"Tag {count} “{tag}”", lambda t=tag: self.tagRequested.emit(queries, t))
        menu.addAction("Tag with other text…", lambda: self.tagRequested.emit(queries, ""))
        used = sorted({t for q in queries for t in self.browser.state.extras.tags_of(q)}, key=str.lower)
        if used:
            menu.addSeparator()
            for tag in used:
                menu.addAction(f"Remove “{tag}”", lambda t=tag: self.untagRequested.emit(queries, t))
            menu.addAction("Remove every tag", lambda: self.untagRequested.emit(queries, None))
        for action in menu.actions():
            action.setEnabled(self.tagging_enabled)
        return menu


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
        self.rows = []
        self._position: dict[int, int] = {}
        self.set_state(state)

    def set_state(self, state) -> None:
        self.beginResetModel()
        self.state = state
        self.rows = state.visible_rows() if state is not None else []
        self._position = {row.index: r for r, row in enumerate(self.rows)}
        self.endResetModel()

    def refresh(self) -> None:
        """The state's rows again (they were re-sorted or re-filtered)."""
        self.set_state(self.state)

    def position_of(self, query_index: int | None) -> int | None:
        """The table row of a query, None when it is not listed."""
        return self._position.get(query_index) if query_index is not None else None

    def delta_changed(self, *_) -> None:
        """Another run compared: the Δ AP column reads again."""
        if self.rows:
            self.dataChanged.emit(self.index(0, DELTA_COLUMN), self.index(len(self.rows) - 1, DELTA_COLUMN))

    def tags_changed(self, *_) -> None:
        """Other tags (or attributes): the tag column reads again."""
        if self.rows:
            self.dataChanged.emit(self.index(0, TAGS_COLUMN), self.index(len(self.rows) - 1, TAGS_COLUMN))

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
                    5: "rank of the first true match after junk removal (1 = correct at rank 1); the strips' "
                       "badges count ranks the same way",
                    DELTA_COLUMN: "AP of this run minus AP of the run chosen under 'vs', in points (click: "
                                  "where this run loses most first / wins most first)",
                    TAGS_COLUMN: "tags kept in the workspace (right-click selected queries to tag them)"}.get(section)
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
            if column == TAGS_COLUMN:
                return ", ".join(self.state.extras.tags_of(row.index))
        if role == Qt.ItemDataRole.ForegroundRole and column == DELTA_COLUMN:
            delta = self.state.delta(row.index)
            return QColor("#888888") if math.isnan(delta) or abs(delta) < 1e-9 else \
                QColor("#1E7B34") if delta > 0 else QColor("#B3261E")
        if role == Qt.ItemDataRole.ForegroundRole and column in (4, 5):
            if not row.evaluated:
                return QColor("#888888")
            return QColor("#B3261E") if row.is_failure else QColor("#1E7B34")
        if role == Qt.ItemDataRole.TextAlignmentRole and column not in (1, TAGS_COLUMN):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            attributes = self.state.extras.attributes
            caption = attributes.caption(row.index) if attributes is not None else ""
            text = row.path + (f"\n“{caption}”" if caption else "")
            if not row.evaluated:
                return f"{text}\nno true match in the gallery: skipped by the protocol"
            return text
        if role == Qt.ItemDataRole.UserRole:
            return row.index
        return None
