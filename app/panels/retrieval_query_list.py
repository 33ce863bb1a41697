"""The Retrieval panel's query list: sorting by a header click, filtering, keeping the selected query
selected, and selecting a query by its index (the Modality-gap plot opens queries this way).

A mixin of :class:`app.panels.retrieval_panel.RetrievalPanel`: it uses the panel's ``state``
(:class:`app.state.retrieval.RetrievalState`), ``model``, ``table``, ``filters``, ``list_title``,
``count_label``, ``_sort_key`` and ``_show_selected``.
"""

from __future__ import annotations

from app.state.query_filter import describe_filter
from app.state.retrieval import describe_sort
from app.widgets.query_table import SORT_INDICATOR, sort_after_click


class QueryListMixin:
    def _filter_changed(self, query_filter) -> None:
        if self.state is None:
            return
        self.state.set_filter(query_filter)
        self.model.refresh()
        self._after_list_change()

    def _header_clicked(self, section: int) -> None:
        key = sort_after_click(section, self._sort_key)
        if self.state is None or key is None:
            self._show_sort()
            return
        self._sort_key = key
        self.state.set_sort(key)
        self.model.refresh()
        self._after_list_change()

    def _after_list_change(self) -> None:
        """The list was re-sorted, re-filtered or reloaded: title, indicator, count, and a selection."""
        self._show_sort()
        self._update_count()
        if not self._reselect():
            if self.model.rowCount():
                self.table.selectRow(0)
            else:
                self.state.select(None)
                self._show_selected()

    def _show_sort(self) -> None:
        key = self.state.sort_key if self.state is not None else self._sort_key
        reference = self.state.reference_name if self.state is not None else None
        self.list_title.setText(f"<b>Queries</b> — {describe_sort(key, reference)} (click a header to re-sort)")
        column, order = SORT_INDICATOR[key]
        self.table.horizontalHeader().setSortIndicator(column, order)

    def _reselect(self) -> bool:
        """Select the state's query in the table again (False when it is not listed)."""
        if self.state is None or self.state.selected is None:
            return False
        for r, row in enumerate(self.model.rows):
            if row.index == self.state.selected:
                self.table.selectRow(r)
                return True
        return False

    def select_query(self, query_index: int) -> bool:
        """Show query ``query_index`` (clearing the filters when they hide it); False when out of range."""
        if self.state is None or not 0 <= query_index < self.state.num_queries:
            return False
        self.state.select(query_index)
        if not self._reselect():
            self.filters.reset()        # refilters the list, which selects the state's query again
        return self.state.selected == query_index

    def _update_count(self) -> None:
        if self.state is not None:
            s = self.state.summary()
            shown = describe_filter(self.state.query_filter, self.model.rowCount(), s["num_query"])
            self.count_label.setText(f"{shown} · {s['num_failures']} rank-1 failures")

    def _query_selected(self, *_) -> None:
        rows = self.table.selectionModel().selectedRows()
        if self.state is None or not rows:
            return
        self.state.select(self.model.rows[rows[0].row()].index)
        self._show_selected()
