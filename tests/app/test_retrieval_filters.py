"""The retrieval browser's query filters (Qt-free), the sort it shows, camera numbers as in the file
names, and the filter bar in the panel."""

from __future__ import annotations

import math

import pytest

from app.state.retrieval import RetrievalState


def _filters():
    """(QueryFilter, filter_queries, passes_delta), imported where used: the module is new."""
    from app.state.query_filter import QueryFilter, filter_queries, passes_delta

    return QueryFilter, filter_queries, passes_delta


def _state():
    # 5 queries: pids 1, 2, 2, 3, 9; cameras (0-based) 0, 1, 2, 0, 1; query 4 has no true match.
    names = ["0001_c1s1_000001_00.jpg", "0002_c2s1_000002_00.jpg", "0002_c3s1_000003_00.jpg",
             "0003_c1s1_000004_00.jpg", "0009_c2s1_000005_00.jpg"]
    return RetrievalState(
        query_paths=[f"/data/query/{n}" for n in names], query_pids=[1, 2, 2, 3, 9], query_camids=[0, 1, 2, 0, 1],
        gallery_paths=[f"/data/gallery/{i}.jpg" for i in range(4)], gallery_pids=[1, 2, 3, 2],
        gallery_camids=[1, 0, 1, 2], topk_indices=[[0, 1], [1, 2], [3, 0], [2, 1], [0, 1]],
        topk_distances=[[0.1, 0.2]] * 5, topk_junk=[[False, False]] * 5,
        ap=[1.0, 0.5, 0.25, 0.8, float("nan")], first_hit=[0, 1, 3, 0, -1])


def _indices(state, query_filter, with_delta=False):
    filter_queries = _filters()[1]
    return [r.index for r in filter_queries(state.visible_rows(), query_filter, state.delta if with_delta else None)]


def test_default_filter_keeps_every_query_and_is_inactive():
    QueryFilter = _filters()[0]
    state = _state()
    assert _indices(state, QueryFilter()) == [r.index for r in state.visible_rows()]
    assert not QueryFilter().is_active()


def test_search_matches_part_of_the_file_name_or_the_identity_number():
    QueryFilter = _filters()[0]
    state = _state()
    assert sorted(_indices(state, QueryFilter(text="C3S1"))) == [2]          # case-insensitive, part of the name
    assert sorted(_indices(state, QueryFilter(text="3"))) == [2, 3]          # a '3' in the name, or identity 3
    assert sorted(_indices(state, QueryFilter(text="0002_"))) == [1, 2]
    assert _indices(state, QueryFilter(text="nothing")) == []


def test_identity_and_camera_filters_use_the_dataset_numbers():
    QueryFilter = _filters()[0]
    state = _state()
    assert sorted(_indices(state, QueryFilter(identity=2))) == [1, 2]
    assert sorted(_indices(state, QueryFilter(camera=1))) == [0, 3]          # c1 = camid 0, as in the names
    assert sorted(_indices(state, QueryFilter(identity=2, camera=3))) == [2]


def test_ap_range_is_inclusive_and_a_narrowed_range_drops_skipped_queries():
    QueryFilter = _filters()[0]
    state = _state()
    assert sorted(_indices(state, QueryFilter(ap_min=0.25, ap_max=0.8))) == [1, 2, 3]
    assert 4 in _indices(state, QueryFilter(ap_min=0.0, ap_max=1.0))        # full range: skipped query kept
    assert 4 not in _indices(state, QueryFilter(ap_max=0.99))
    assert sorted(_indices(state, QueryFilter(only_failures=True))) == [1, 2]


def test_delta_threshold_needs_a_compared_run_and_a_direction():
    QueryFilter, _, passes_delta = _filters()
    state = _state()
    state.set_reference("clipreid", state.query_paths[:4], [0.5, 0.5, 0.75, 0.7])   # Δ +50, 0, -50, +10 points
    worse = QueryFilter(delta_direction="worse", delta_threshold=0.2)
    assert _indices(state, worse) == [r.index for r in state.visible_rows()]   # no delta function: ignored
    assert _indices(state, worse, with_delta=True) == [2]
    assert sorted(_indices(state, QueryFilter(delta_direction="better", delta_threshold=0.1), True)) == [0, 3]
    assert sorted(_indices(state, QueryFilter(delta_direction="changed", delta_threshold=0.3), True)) == [0, 2]
    assert sorted(_indices(state, QueryFilter(delta_direction="better", delta_threshold=0.0), True)) == [0, 3]
    assert not passes_delta(math.nan, "changed", 0.0) and passes_delta(math.nan, "any", 0.5)
    with pytest.raises(ValueError, match="valid"):
        QueryFilter(delta_direction="sideways")


def test_state_applies_its_filter_together_with_the_sort():
    QueryFilter = _filters()[0]
    state = _state()
    state.set_filter(QueryFilter(identity=2))
    assert [r.index for r in state.visible_rows()] == [2, 1]                  # worst AP first
    state.set_only_failures(True)
    assert state.query_filter.identity == 2 and state.only_failures
    state.set_sort("ap_descending")
    assert [r.index for r in state.visible_rows()] == [1, 2]


def test_camera_numbers_and_sort_titles_follow_the_data_and_the_sort():
    from app.state.retrieval import camera_number, describe_sort

    state = _state()
    for path, camid in zip(state.query_paths, state.query_camids):
        assert f"_c{camera_number(camid)}s" in path
    assert describe_sort("ap_ascending") == "worst AP first" and describe_sort("ap_descending") == "best AP first"
    assert describe_sort("delta_ascending", "clipreid") == "largest AP loss vs clipreid first"
    assert state.query_index_of("/data/query/0002_c3s1_000003_00.jpg") == 2
    assert state.query_index_of("/data/gallery/0.jpg") is None


def test_header_clicks_pick_a_sort_and_flip_it_on_the_sorting_column():
    from PySide6.QtCore import Qt

    from app.widgets.query_table import DELTA_COLUMN, SORT_INDICATOR, sort_after_click

    assert sort_after_click(4, "ap_ascending") == "ap_descending"
    assert sort_after_click(4, "ap_descending") == "ap_ascending"
    assert sort_after_click(DELTA_COLUMN, "ap_ascending") == "delta_ascending"
    assert sort_after_click(1, "ap_ascending") is None                        # the name column does not sort
    assert SORT_INDICATOR["ap_descending"] == (4, Qt.SortOrder.DescendingOrder)


def _loaded(window, qtbot):
    window.tabs.setCurrentWidget(window.retrieval)
    qtbot.waitUntil(lambda: window.retrieval.state is not None and window.retrieval.state.selected is not None,
                    timeout=20000)
    return window.retrieval


def test_filter_bar_narrows_the_query_list_and_the_delta_filter_waits_for_a_compared_run(open_window, tiny_workspace,
                                                                                          qtbot):
    panel = _loaded(open_window(tiny_workspace), qtbot)
    assert hasattr(panel, "filters"), "no filter bar"
    total = panel.state.num_queries
    bar = panel.filters
    camera = bar.camera.itemData(1)
    bar.camera.setCurrentIndex(1)
    assert panel.model.rowCount() and all(row.camid + 1 == camera for row in panel.model.rows)
    assert f"{panel.model.rowCount()} of {total} queries shown" in panel.count_label.text()
    assert panel.state.selected in [row.index for row in panel.model.rows]   # the selection follows the list
    pid = panel.model.rows[0].pid
    bar.search.setText(str(pid))
    assert {row.pid for row in panel.model.rows} == {pid}
    bar.search.setText("no-such-file")
    assert panel.model.rowCount() == 0 and panel.strip.tiles == [] and "No query matches" in panel.query_info.text()
    bar.reset()
    assert panel.model.rowCount() == total
    assert not bar.delta_direction.isEnabled()                                 # no run compared yet
    other = next(path for path in panel.run_paths if path != panel.current_run())
    panel.compare_with(other)
    qtbot.waitUntil(lambda: panel.state.reference_name == other.name, timeout=20000)
    assert bar.delta_direction.isEnabled()
    bar.delta_direction.setCurrentIndex(bar.delta_direction.findData("worse"))
    bar.delta_threshold.setValue(1)
    assert all(panel.state.delta(row.index) <= -0.01 for row in panel.model.rows)
