"""The Retrieval panel's query list: its title and count, the filter bar, sorting by a header click, and
selecting a query by its index (the Modality-gap plot opens queries this way).

A mixin of :class:`app.panels.retrieval_panel.RetrievalPanel`: it uses the panel's ``browser``
(:class:`app.state.retrieval_browser.RetrievalBrowser`), ``state`` (the eval shown), ``table``,
``filters``, ``list_title`` and ``count_label``. The rules (what a filter or a sort does to the list,
that the selection follows the list, that a hidden query clears the filters) live in
:class:`app.state.retrieval.RetrievalState`; here the clicks write to it and the labels follow it.
"""

from __future__ import annotations

from app.state.query_attributes import describe_criteria
from app.state.query_filter import describe_filter
from app.state.retrieval import camera_number, describe_sort
from app.widgets.query_table import sort_after_click


class QueryListMixin:
    def _subscribe_query_list(self) -> None:
        b = self.browser
        for signal in (b.eval_changed, b.sort_changed, b.reference_changed):
            signal.connect(self._show_sort)
        for signal in (b.eval_changed, b.rows_changed, b.filter_changed, b.extras_changed):
            signal.connect(self._show_count)
        b.eval_changed.connect(self._show_filter_choices)
        b.reference_changed.connect(self._show_delta_choice)
        b.filter_changed.connect(self.filters.show_filter)

    def _header_clicked(self, section: int) -> None:
        key = sort_after_click(section, self.browser.sort_key)
        if self.state is None or key is None or key == self.state.sort_key:
            self.table.show_sort()   # Qt moved the indicator on the click: back to the sort shown
            return
        self.state.set_sort(key)

    def select_query(self, query_index: int) -> bool:
        """Show query ``query_index`` (clearing the filters when they hide it); False when out of range."""
        return self.state is not None and self.state.show_query(query_index)

    # -- drawing -----------------------------------------------------------------------------------------
    def _show_sort(self, *_) -> None:
        reference = self.state.reference_name if self.state is not None else None
        self.list_title.setText(f"<b>Queries</b> — {describe_sort(self.browser.sort_key, reference)} "
                                "(click a header to re-sort)")

    def _show_count(self, *_) -> None:
        if self.state is None:
            self.count_label.setText("")
            return
        s = self.state.summary()
        details = describe_criteria(self.state.query_filter, self.state.extras)
        shown = describe_filter(self.state.query_filter, self.state.num_visible, s["num_query"], details)
        self.count_label.setText(f"{shown} · {s['num_failures']} rank-1 failures")

    def _show_filter_choices(self, *_) -> None:
        """The cameras of the eval shown, whether a ΔAP criterion applies, and the filters it uses."""
        if self.state is not None:
            self.filters.set_cameras(camera_number(c) for c in set(self.state.query_camids.tolist()))
        self._show_delta_choice()
        self.filters.show_filter(self.browser.query_filter)

    def _show_delta_choice(self, *_) -> None:
        self.filters.set_comparison(self.state is not None and self.state.reference_name is not None)
