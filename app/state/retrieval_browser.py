"""What the Retrieval panel shows: the eval folder browsed (a :class:`RetrievalState`) or why there is
none (loading, unreadable, no evaluated run), the sort and filters carried from one eval folder to the
next, and how many gallery images a strip shows.

Qt-free and evented (psygnal). The panel writes to it (an eval loaded in a worker, a click, a filter
typed) and its widgets subscribe to it once: the browser relays the signals of the eval shown
(:class:`app.state.retrieval.RetrievalState`), so nothing has to be connected again when another eval
loads, and nothing from an eval no longer shown reaches them.

Signals (each once per change, never when nothing changed):

- ``eval_changed(RetrievalState | None)``: another eval shown, or none (loading, failed, cleared). It
  stands for everything: its list, sort, filters, comparison and selection are not emitted apart;
- ``notice_changed(EvalNotice | None)``: why no eval is shown changed (None: one is shown);
- ``k_changed(k)``: the strips show another number of gallery images;
- relayed from the eval shown: ``rows_changed()``, ``sort_changed(key)``, ``filter_changed(QueryFilter)``,
  ``reference_changed(name | None)``, ``extras_changed(QueryExtras)``, ``selection_changed(index | None)``
  (see ``RetrievalState``);
  ``filter_changed`` also when the filters change while no eval is shown.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from psygnal import Signal

from app.state.query_filter import QueryFilter
from app.state.retrieval import RetrievalState, camera_number
from app.state.retrieval_texts import describe_comparison, describe_summary

FIRST_FILTER = QueryFilter(delta_threshold=0.10)   # every query; a ΔAP direction starts at 10 points
RELAYED = ("rows_changed", "sort_changed", "filter_changed", "reference_changed", "extras_changed",
           "selection_changed")
NO_EVALUATED_RUN = ("No run in this workspace has eval artefacts yet.\n\nThey appear when a run completes "
                    "(or after `scing eval --run-dir RUN`); the Training tab shows the runs in progress.")


@dataclass(frozen=True)
class EvalNotice:
    """Why no eval is shown: the text in place of the data, and the header line."""

    page: str
    header: str = ""

    @classmethod
    def loading(cls, run: str, dataset: str) -> "EvalNotice":
        return cls(f"Loading {run} / {dataset}…", f"loading {run} / {dataset}…")

    @classmethod
    def failed(cls, run: str, dataset: str, message: str) -> "EvalNotice":
        return cls(f"Could not load {run} / {dataset}.\n\n{message}",
                   f"<span style='color:#B3261E'>could not load {run} / {dataset}</span>")


class RetrievalBrowser:
    """The eval shown (``state``) or the notice in its place, and what carries over between evals."""

    eval_changed = Signal(object)
    notice_changed = Signal(object)
    k_changed = Signal(int)
    rows_changed = Signal()
    sort_changed = Signal(str)
    filter_changed = Signal(object)
    reference_changed = Signal(object)
    extras_changed = Signal(object)
    selection_changed = Signal(object)

    def __init__(self, k: int = 10) -> None:
        self.state: RetrievalState | None = None
        self.notice: EvalNotice | None = None
        self.k = k
        self._sort_key = "ap_ascending"     # kept from one eval folder to the next
        self._filter = FIRST_FILTER

    # -- what is shown -------------------------------------------------------------------------------
    def show_eval(self, state: RetrievalState) -> None:
        """Show a loaded eval with the sort and filters of the previous one. A ΔAP sort needs a compared
        run: without one it starts worst AP first; a camera the new queries lack is dropped from the
        filters. Its first listed query is selected unless the eval already selects a listed one."""
        if state is self.state:
            return
        sort_key = "ap_ascending" if self.sort_key.startswith("delta") and state.reference is None else self.sort_key
        query_filter = self.query_filter
        if query_filter.camera not in {camera_number(c) for c in state.query_camids.tolist()}:
            query_filter = replace(query_filter, camera=None)
        state.set_sort(sort_key)
        state.set_filter(query_filter)
        self._show(state, None)

    def show_loading(self, run: str, dataset: str) -> None:
        self._show(None, EvalNotice.loading(run, dataset))

    def show_failure(self, run: str, dataset: str, message: str) -> None:
        self._show(None, EvalNotice.failed(run, dataset, message))

    def show_nothing(self, text: str = NO_EVALUATED_RUN) -> None:
        """No eval to show (e.g. no run of the workspace has one)."""
        self._show(None, EvalNotice(text))

    def _show(self, state: RetrievalState | None, notice: EvalNotice | None) -> None:
        before, before_notice = self.state, self.notice
        if state is not before:
            if before is not None:
                self._sort_key, self._filter = before.sort_key, before.query_filter
                for name in RELAYED:
                    getattr(before, name).disconnect(getattr(self, name))
            if state is not None:
                for name in RELAYED:
                    getattr(state, name).connect(getattr(self, name))
        self.state, self.notice = state, notice
        if state is not before:
            self.eval_changed.emit(state)
        if notice != before_notice:
            self.notice_changed.emit(notice)

    # -- carried over between evals -------------------------------------------------------------------
    @property
    def sort_key(self) -> str:
        return self.state.sort_key if self.state is not None else self._sort_key

    @property
    def query_filter(self) -> QueryFilter:
        return self.state.query_filter if self.state is not None else self._filter

    def set_filter(self, query_filter: QueryFilter) -> None:
        """The filters of the eval shown, or of the next one while none is."""
        if self.state is not None:
            self.state.set_filter(query_filter)
        elif query_filter != self._filter:
            self._filter = query_filter
            self.filter_changed.emit(query_filter)

    def set_k(self, k: int) -> None:
        if int(k) != self.k:
            self.k = int(k)
            self.k_changed.emit(self.k)

    # -- texts -------------------------------------------------------------------------------------------
    def header_text(self) -> str:
        """The panel's header line: the eval's metrics (and how the compared run differs), or the notice's."""
        if self.state is None:
            return self.notice.header if self.notice is not None else ""
        text = describe_summary(self.state.summary())
        comparison = describe_comparison(self.state.reference_summary()) if self.state.reference_name else ""
        return f"{text}<br>{comparison}" if comparison else text

    def selection_text(self) -> str:
        """What the detail says without a selected query."""
        return "Select a query" if self.state is None else "No query matches the filters."
