"""The Retrieval panel's evented state: ``RetrievalState`` (one eval folder) and ``RetrievalBrowser``
(what the panel shows) emit once per real change and never when nothing changed, own the browser's
rules (the selection follows the list, a hidden query clears the filters, a ΔAP sort needs a compared
run), and the query table and the gallery strips follow them with no refresh call."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from app.state.query_filter import QueryFilter
from app.state.retrieval import RetrievalState
from app.state.retrieval_browser import NO_EVALUATED_RUN, RELAYED, EvalNotice, RetrievalBrowser


def _state(ap=(1.0, 0.5, 0.25, 0.8, float("nan")), prefix="/data/query"):
    # 5 queries: pids 1, 2, 2, 3, 9; cameras c1, c2, c3, c1, c2; query 4 has no true match (skipped).
    names = ["0001_c1s1_000001_00.jpg", "0002_c2s1_000002_00.jpg", "0002_c3s1_000003_00.jpg",
             "0003_c1s1_000004_00.jpg", "0009_c2s1_000005_00.jpg"]
    return RetrievalState(
        query_paths=[f"{prefix}/{n}" for n in names], query_pids=[1, 2, 2, 3, 9], query_camids=[0, 1, 2, 0, 1],
        gallery_paths=[f"/data/gallery/{i}.jpg" for i in range(4)], gallery_pids=[1, 2, 3, 2],
        gallery_camids=[1, 0, 1, 2], topk_indices=[[0, 1], [1, 2], [3, 0], [2, 1], [0, 1]],
        topk_distances=[[0.1, 0.2]] * 5, topk_junk=[[False, False]] * 5,
        ap=list(ap), first_hit=[0, 1, 3, 0, -1], metrics={"mAP": 0.6, "R1": 0.5})


def _record(obj, *names):
    """Every emission of the named psygnal signals of ``obj``, in order: [(name, args), ...]."""
    calls = []
    for name in names or RELAYED:
        getattr(obj, name).connect(lambda *args, n=name: calls.append((n, args)))
    return calls


def _order(state):
    return [row.index for row in state.visible_rows()]


# -- RetrievalState ------------------------------------------------------------------------------------------
def test_a_new_eval_lists_worst_ap_first_and_selects_its_first_query():
    state = _state()
    assert _order(state) == [2, 1, 3, 0, 4] and state.selected == 2


def test_set_filter_emits_rows_and_filter_once_and_nothing_for_the_same_filter():
    state = _state()
    emitted = _record(state)
    only_c1 = QueryFilter(camera=1)
    state.set_filter(only_c1)
    assert emitted == [("rows_changed", ()), ("filter_changed", (only_c1,)), ("selection_changed", (3,))]
    assert _order(state) == [3, 0]
    emitted.clear()
    state.set_filter(QueryFilter(camera=1))          # equal filter: nothing changed
    state.set_only_failures(False)                    # already off
    assert emitted == []


def test_a_filter_that_hides_nothing_emits_only_filter_changed():
    state = _state()
    emitted = _record(state)
    state.set_filter(QueryFilter(ap_min=0.0, ap_max=1.0, text="_c"))   # every name has '_c'
    assert [name for name, _ in emitted] == ["filter_changed"]


def test_selecting_a_query_emits_selection_once():
    state = _state()
    emitted = _record(state)
    assert state.select(0).index == 0
    state.select(0)
    assert emitted == [("selection_changed", (0,))]


def test_the_selection_follows_the_list_and_the_state_is_consistent_when_rows_changed_goes_out():
    state = _state()
    state.select(1)
    seen = []
    state.rows_changed.connect(lambda: seen.append((state.selected, _order(state))))
    emitted = _record(state, "selection_changed")
    state.set_filter(QueryFilter(identity=2))          # query 1 stays listed: stays selected
    assert state.selected == 1 and emitted == []
    state.set_filter(QueryFilter(identity=3))          # hidden: the first listed query is selected
    assert seen[-1] == (3, [3]) and emitted == [("selection_changed", (3,))]
    state.set_filter(QueryFilter(text="no-such-file"))
    assert state.selected is None and state.selected_row is None and emitted[-1] == ("selection_changed", (None,))
    state.set_filter(QueryFilter())
    assert state.selected == 2                          # the list shows queries again: its first


def test_set_sort_emits_rows_and_sort_once():
    state = _state()
    emitted = _record(state)
    state.set_sort("ap_descending")
    assert emitted == [("rows_changed", ()), ("sort_changed", ("ap_descending",))]
    emitted.clear()
    state.set_sort("ap_descending")
    assert emitted == []
    with pytest.raises(ValueError, match="valid"):
        state.set_sort("random")


def test_the_compared_run_emits_when_set_replaced_and_cleared():
    state, other, third = _state(), _state(ap=(0.5, 0.5, 0.75, 0.7, float("nan"))), _state(ap=(1, 0, 0, 0, 0))
    emitted = _record(state)
    assert state.set_reference_state("clipreid", other) == 5
    assert emitted == [("reference_changed", ("clipreid",))]     # the list (worst AP first) did not change
    state.set_sort("delta_ascending")
    emitted.clear()
    state.set_reference_state("cocoop", third)                     # another run: the ΔAP sort stays
    assert ("reference_changed", ("cocoop",)) in emitted and state.sort_key == "delta_ascending"
    emitted.clear()
    assert _order(state) == [0, 2, 1, 3, 4]                        # ΔAP 0, +25, +50, +80 points
    state.clear_reference()                                        # a ΔAP sort needs a compared run
    assert [name for name, _ in emitted] == ["rows_changed", "sort_changed", "reference_changed"]
    assert state.sort_key == "ap_ascending" and state.reference is None
    emitted.clear()
    state.clear_reference()
    assert emitted == []


def test_the_same_per_query_ap_again_is_no_change_but_a_reloaded_eval_is():
    state, other = _state(), _state(ap=(0.5, 0.5, 0.75, 0.7, float("nan")))
    state.set_reference("clipreid", other.query_paths, other.ap)
    emitted = _record(state)
    state.set_reference("clipreid", other.query_paths, other.ap)
    assert emitted == []
    state.set_reference_state("clipreid", other)                   # now with its ranked lists
    assert emitted == [("reference_changed", ("clipreid",))]


def test_a_delta_filter_changes_the_list_when_the_compared_run_arrives_or_leaves():
    state = _state()
    state.set_filter(QueryFilter(delta_direction="worse", delta_threshold=0.2))
    assert len(_order(state)) == 5                                 # no compared run: criterion ignored
    state.select(0)
    emitted = _record(state)
    state.set_reference_state("clipreid", _state(ap=(0.5, 0.5, 0.75, 0.7, float("nan"))))
    assert [name for name, _ in emitted] == ["rows_changed", "reference_changed", "selection_changed"]
    assert _order(state) == [2] and state.selected == 2


def test_showing_a_hidden_query_clears_the_filters_once_and_keeps_the_delta_threshold():
    state = _state()
    state.set_filter(QueryFilter(camera=1, delta_threshold=0.15))
    emitted = _record(state)
    assert state.show_query(1)
    assert [name for name, _ in emitted] == ["rows_changed", "filter_changed", "selection_changed"]
    assert state.selected == 1 and state.query_filter == QueryFilter(delta_threshold=0.15)
    emitted.clear()
    assert state.show_query(0) and emitted == [("selection_changed", (0,))]   # listed: only selected
    assert not state.show_query(9) and state.selected == 0


# -- RetrievalBrowser ----------------------------------------------------------------------------------------
def test_loading_a_new_eval_clears_the_previous_selection_with_one_emission():
    browser, first, second = RetrievalBrowser(), _state(), _state(prefix="/other")
    browser.show_eval(first)
    first.select(0)
    emitted = _record(browser, "eval_changed", "notice_changed", *RELAYED)
    browser.show_loading("scing", "synthped")
    assert emitted == [("eval_changed", (None,)), ("notice_changed", (EvalNotice.loading("scing", "synthped"),))]
    assert browser.state is None and browser.header_text() == "loading scing / synthped…"
    emitted.clear()
    first.select(3)                                     # the eval no longer shown reaches nobody
    browser.show_eval(second)
    assert emitted == [("eval_changed", (second,)), ("notice_changed", (None,))]
    assert second.selected == 2
    emitted.clear()
    browser.show_eval(second)
    assert emitted == []
    second.select(1)                                    # the eval shown is relayed
    assert emitted == [("selection_changed", (1,))]


def test_the_sort_and_filters_carry_over_to_the_next_eval():
    browser = RetrievalBrowser()
    browser.show_eval(_state())
    browser.state.set_sort("ap_descending")
    browser.set_filter(QueryFilter(camera=3, only_failures=True))
    browser.show_loading("cocoop", "synthped")
    assert browser.sort_key == "ap_descending" and browser.query_filter.camera == 3
    emitted = _record(browser, "filter_changed")
    browser.set_filter(QueryFilter(camera=3, only_failures=True))          # unchanged while loading
    browser.set_filter(QueryFilter(camera=2, only_failures=True))
    assert emitted == [("filter_changed", (QueryFilter(camera=2, only_failures=True),))]
    nxt = _state()
    browser.show_eval(nxt)
    assert nxt.sort_key == "ap_descending" and nxt.query_filter == QueryFilter(camera=2, only_failures=True)
    assert _order(nxt) == [1]


def test_a_delta_sort_and_a_missing_camera_do_not_carry_over():
    browser = RetrievalBrowser()
    browser.show_eval(_state())
    browser.state.set_reference_state("clipreid", _state(ap=(0.5, 0.5, 0.75, 0.7, float("nan"))))
    browser.state.set_sort("delta_descending")
    browser.set_filter(QueryFilter(camera=3))
    only_c1 = RetrievalState([f"/q/000{i}_c1s1_0.jpg" for i in range(2)], [1, 2], [0, 0], ["/g/0.jpg"], [1], [1],
                             [[0], [0]], [[0.1], [0.2]], [[False], [False]], [0.5, 1.0], [0, 0])
    browser.show_eval(only_c1)
    assert only_c1.sort_key == "ap_ascending" and only_c1.query_filter.camera is None


def test_the_browser_says_why_no_eval_is_shown_and_counts_the_gallery_strip():
    browser = RetrievalBrowser()
    assert browser.header_text() == "" and browser.selection_text() == "Select a query"
    browser.show_failure("z", "synthped", "cannot read x")
    assert browser.notice.page == "Could not load z / synthped.\n\ncannot read x"
    assert "could not load z / synthped" in browser.header_text()
    emitted = _record(browser, "notice_changed", "eval_changed")
    browser.show_nothing()
    browser.show_nothing()
    assert emitted == [("notice_changed", (EvalNotice(NO_EVALUATED_RUN),))]
    browser.show_eval(_state())
    assert browser.header_text().startswith("mAP 60.0 · R1 50.0")
    browser.state.set_reference_state("clipreid", _state(ap=(0.5, 0.5, 0.75, 0.7, float("nan"))))
    assert "<br>vs clipreid: better on" in browser.header_text()
    browser.set_filter(QueryFilter(text="no-such"))
    assert browser.selection_text() == "No query matches the filters."
    k = _record(browser, "k_changed")
    browser.set_k(5)
    browser.set_k(5)
    assert k == [("k_changed", (5,))] and browser.k == 5


# -- widgets follow the state ----------------------------------------------------------------------------------
def test_the_query_table_follows_the_browser_without_a_refresh(qtbot):
    from app.widgets.query_table import DELTA_COLUMN, QueryTable

    browser = RetrievalBrowser()
    table = QueryTable(browser, 20)
    qtbot.addWidget(table)
    model = table.query_model

    def selected_row():
        rows = table.selectionModel().selectedRows()
        return model.rows[rows[0].row()].index if rows else None

    state = _state()
    browser.show_eval(state)
    assert [row.index for row in model.rows] == [2, 1, 3, 0, 4] and selected_row() == 2
    state.set_filter(QueryFilter(camera=1))
    assert [row.index for row in model.rows] == [3, 0] and selected_row() == 3
    state.select(0)
    assert selected_row() == 0
    state.set_sort("query_order")
    assert [row.index for row in model.rows] == [0, 3] and selected_row() == 0
    assert table.horizontalHeader().sortIndicatorSection() == 0
    assert model.data(model.index(0, DELTA_COLUMN)) == "—"
    state.set_reference_state("clipreid", _state(ap=(0.5, 0.5, 0.75, 0.7, float("nan"))))
    assert model.data(model.index(0, DELTA_COLUMN)) == "+50.0"
    table.selectRow(1)                                     # a click writes the state
    assert state.selected == 3
    browser.show_loading("scing", "synthped")
    assert model.rowCount() == 0 and selected_row() is None


def _loaded_panel(tiny_workspace, qtbot):
    """A shown RetrievalPanel alone (no window) browsing the tiny workspace's first evaluated run."""
    from app.panels.retrieval_panel import RetrievalPanel

    panel = RetrievalPanel()
    qtbot.addWidget(panel)
    panel.resize(1440, 860)
    panel.show()
    panel.set_runs([SimpleNamespace(path=path) for path in sorted((tiny_workspace / "runs").iterdir())])
    qtbot.waitUntil(lambda: panel.state is not None and panel.state.selected is not None, timeout=20000)
    return panel


def test_the_panel_follows_state_changes_with_no_explicit_refresh(tiny_workspace, qtbot):
    panel = _loaded_panel(tiny_workspace, qtbot)
    state = panel.state
    camera = state.row(state.selected).camid + 1
    state.set_filter(QueryFilter(camera=camera))            # as if a worker or another panel wrote it
    assert panel.model.rows == state.visible_rows() and all(row.camid + 1 == camera for row in panel.model.rows)
    assert panel.filters.camera.currentData() == camera and "queries shown (filtered)" in panel.count_label.text()
    other = next(row for row in panel.model.rows if row.index != state.selected)
    state.select(other.index)                               # the gallery strip follows the selection
    hits = state.hits(other.index, panel.k_spin.value())
    assert [spec.path for spec in panel.strip.specs()] == [hit.path for hit in hits]
    assert f"Query {other.index}</b>" in panel.query_info.text()
    panel.browser.set_k(3)
    assert panel.k_spin.value() == 3 and len(panel.strip.tiles) == 3
    hidden = next(i for i in range(state.num_queries) if not state.is_listed(i))
    assert state.show_query(hidden)                         # clears the filters: the bar follows
    assert panel.filters.camera.currentData() is None and panel.model.rowCount() == state.num_queries
    assert panel.table.selectionModel().selectedRows()[0].row() == panel.model.position_of(hidden)
    state.set_sort("ap_descending")
    assert "best AP first" in panel.list_title.text()
    state.set_filter(QueryFilter(text="no-such-file"))
    assert panel.strip.tiles == [] and "No query matches" in panel.query_info.text()
    panel.workers.wait(60000)
