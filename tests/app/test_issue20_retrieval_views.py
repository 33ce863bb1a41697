"""Issue 20, item 9: FiftyOne-style query views in the Retrieval panel — attribute filters (occluded share,
caption words, cameras, identities), tags kept in the workspace, saved views, export of the listed
queries, and a selection handed over by the Modality-gap panel (``RetrievalPanel.restrict_queries``)."""

from __future__ import annotations

import csv
import json
import math
import os
import shutil

import numpy as np
import pytest

from app.state.query_attributes import QueryAttributes, QueryExtras, Restriction, describe_criteria, query_mask
from app.state.query_export import export_rows, write_export
from app.state.query_filter import ANY_TAG, QueryFilter, describe_filter
from app.state.query_tags import TagStore, tag_key
from app.state.retrieval import RetrievalState
from app.state.saved_views import SavedView, ViewStore

TIMEOUT = 60000


def _state():
    # 5 queries: pids 1, 2, 2, 3, 9; cameras (0-based) 0, 1, 2, 0, 1; query 4 has no true match.
    names = ["0001_c1s1_000001_00.jpg", "0002_c2s1_000002_00.jpg", "0002_c3s1_000003_00.jpg",
             "0003_c1s1_000004_00.jpg", "0009_c2s1_000005_00.jpg"]
    return RetrievalState(
        query_paths=[f"/data/synthped/query/{n}" for n in names], query_pids=[1, 2, 2, 3, 9],
        query_camids=[0, 1, 2, 0, 1], gallery_paths=[f"/data/gallery/{i}.jpg" for i in range(4)],
        gallery_pids=[1, 2, 3, 2], gallery_camids=[1, 0, 1, 2], topk_indices=[[0, 1], [1, 2], [3, 0], [2, 1], [0, 1]],
        topk_distances=[[0.1, 0.2]] * 5, topk_junk=[[False, False]] * 5,
        ap=[1.0, 0.5, 0.25, 0.8, float("nan")], first_hit=[0, 1, 3, 0, -1])


ANNOTATIONS = {  # query 4 undescribed (NaN occlusion, no caption)
    "/data/synthped/query/0001_c1s1_000001_00.jpg": {"caption": "A man with a red Backpack", "occlusion": 0.0},
    "/data/synthped/query/0002_c2s1_000002_00.jpg": {"caption": "a woman, red skirt, handbag", "occlusion": 0.35},
    "/data/synthped/query/0002_c3s1_000003_00.jpg": {"caption": "a woman, blue skirt, handbag", "occlusion": 0.6},
    "/data/synthped/query/0003_c1s1_000004_00.jpg": {"caption": "a man in red", "occlusion": None},
}


def _listed(state):
    return sorted(row.index for row in state.visible_rows())


# -- pure logic -------------------------------------------------------------------------------------------------
def test_attribute_criteria_combine_with_the_other_filters():
    state = _state()
    state.set_extras(QueryExtras(QueryAttributes.from_annotations(state.query_paths, ANNOTATIONS)))
    state.set_filter(QueryFilter(occluded_min=0.3))
    assert _listed(state) == [1, 2]                      # ≥ 30 % occluded; the undescribed query drops out
    state.set_filter(QueryFilter(occluded_max=0.0))
    assert _listed(state) == [0, 3]                      # unoccluded only (a described image without occlusion)
    state.set_filter(QueryFilter(caption_words="RED  handbag"))
    assert _listed(state) == [1]                         # every word, case-insensitive
    state.set_filter(QueryFilter(caption_words="red", only_failures=True))
    assert _listed(state) == [1]                         # with the existing filters
    state.set_filter(QueryFilter(cameras=(1, 3)))
    assert _listed(state) == [0, 2, 3]                   # c1 or c3 (camids 0 and 2)
    state.set_filter(QueryFilter(identities=(2, 9), cameras=(2,)))
    assert _listed(state) == [1, 4]
    state.set_filter(QueryFilter(occluded_min=0.3, caption_words="blue"))
    assert _listed(state) == [2]
    assert "occluded ≥ 30 %" in describe_criteria(state.query_filter, state.extras)
    assert "caption “blue”" in describe_criteria(state.query_filter, state.extras)


def test_criteria_the_dataset_cannot_apply_are_ignored_and_the_reason_is_given():
    state = _state()
    attributes = QueryAttributes.from_annotations(state.query_paths, {})   # a real dataset: no captions
    assert not attributes.has_captions and attributes.availability() == "no captions/occlusion for this dataset"
    state.set_extras(QueryExtras(attributes))
    state.set_filter(QueryFilter(caption_words="red", occluded_min=0.5, cameras=(2,)))
    assert _listed(state) == [1, 4]                      # the camera list still works
    assert describe_criteria(state.query_filter, state.extras) == "cams c2"
    only_captions = QueryAttributes.from_annotations(state.query_paths, {
        k: {**v, "occlusion": None} for k, v in ANNOTATIONS.items()})
    assert only_captions.availability() == "no occlusion for this dataset"


def test_the_count_line_says_which_criteria_are_active():
    f = QueryFilter(tag="hard", identities=(12, 3))
    extras = QueryExtras(restriction=Restriction(frozenset({1, 2}), "Modality gap"))
    text = describe_filter(f, 2, 5, describe_criteria(f, extras))
    assert text == "2 of 5 queries shown (filtered): ids 3, 12, tag “hard”, selection from Modality gap: 2 images"
    assert describe_filter(QueryFilter(), 5, 5) == "5 queries"


def test_tag_filters_and_restriction_are_numpy_masks():
    state = _state()
    extras = QueryExtras(tags={0: ("hard",), 3: ("label noise", "hard"), 4: ("x",)})
    assert query_mask(state.query_pids, state.query_camids, QueryFilter(), extras) is None
    mask = query_mask(state.query_pids, state.query_camids, QueryFilter(tag="hard"), extras)
    assert mask.tolist() == [True, False, False, True, False]
    mask = query_mask(state.query_pids, state.query_camids, QueryFilter(tag=ANY_TAG), extras)
    assert mask.tolist() == [True, False, False, True, True]
    state.set_extras(QueryExtras(tags=extras.tags, restriction=Restriction(frozenset({0, 1}), "Modality gap")))
    state.set_filter(QueryFilter(tag="hard"))
    assert _listed(state) == [0]


def test_tags_are_kept_by_dataset_relative_path_written_atomically_and_reloaded(tmp_path):
    store = TagStore.load(tmp_path)
    assert store.writable and store.tags == {}
    first = "/old/place/synthped/query/0001_c1s1_000001_00.jpg"
    assert store.add([tag_key("synthped", first)], "  label   noise ") == 1
    assert store.add([tag_key("synthped", first)], "hard") == 1
    file = tmp_path / "studio" / "query_tags.json"
    assert json.loads(file.read_text())["tags"] == {"synthped/query/0001_c1s1_000001_00.jpg": ["label noise", "hard"]}
    assert not [p for p in file.parent.iterdir() if p.name != file.name]   # no temporary file left behind
    again = TagStore.load(tmp_path)   # reopened; the dataset moved, the tags stay
    assert again.for_eval("synthped", ["/new/synthped/query/0001_c1s1_000001_00.jpg", "/new/x.jpg"]) == {
        0: ("label noise", "hard")}
    assert again.for_eval("market", ["/new/synthped/query/0001_c1s1_000001_00.jpg"]) == {}
    assert again.remove([tag_key("synthped", first)], "hard") == 1
    assert TagStore.load(tmp_path).tags == {"synthped/query/0001_c1s1_000001_00.jpg": ("label noise",)}
    assert again.known_tags()[:2] == ["hard", "label noise"]


def test_a_corrupt_tag_file_is_left_untouched_and_tagging_refused(tmp_path):
    file = tmp_path / "studio" / "query_tags.json"
    file.parent.mkdir()
    file.write_text('{"tags": {"a": ["hard"]')
    store = TagStore.load(tmp_path)
    assert not store.writable and "query_tags.json is not valid JSON" in store.error and "\n" not in store.error
    with pytest.raises(ValueError):
        store.add(["synthped/query/a.jpg"], "hard")
    assert file.read_text() == '{"tags": {"a": ["hard"]'


def test_saved_views_round_trip_exactly(tmp_path):
    f = QueryFilter(text="c3", identity=2, camera=3, ap_min=0.1, ap_max=0.9, only_failures=True,
                    delta_direction="worse", delta_threshold=0.15, occluded_min=0.3, occluded_max=0.8,
                    caption_words="red bag", cameras=(1, 3), identities=(5, 2), tag="label noise")
    store = ViewStore.load(tmp_path)
    store.save(SavedView("hard cases", f, "delta_ascending"))
    store.save(SavedView("all", QueryFilter(), "query_order"))
    again = ViewStore.load(tmp_path)
    assert again.names() == ["all", "hard cases"]
    assert again.get("hard cases") == SavedView("hard cases", f, "delta_ascending")
    assert again.get("all") == SavedView("all", QueryFilter(), "query_order")
    assert again.delete("all") and ViewStore.load(tmp_path).names() == ["hard cases"]
    (tmp_path / "studio" / "views.json").write_text("[1, 2]")
    broken = ViewStore.load(tmp_path)
    assert not broken.writable and "views.json" in broken.error


def test_export_rows_follow_the_list_with_first_hit_delta_and_tags(tmp_path):
    state = _state()
    state.set_extras(QueryExtras(tags={1: ("hard", "label noise")}))
    rows = export_rows(state)
    assert [r["query_index"] for r in rows] == [row.index for row in state.visible_rows()]   # worst AP first
    assert rows[-1]["ap"] is None and rows[-1]["first_hit_rank"] is None                    # skipped query last
    assert all(r["delta_ap"] is None for r in rows)                                         # nothing compared
    state.set_reference("clipreid", state.query_paths[:4], [0.5, 0.5, 0.75, 0.7])
    by_index = {r["query_index"]: r for r in export_rows(state)}
    assert by_index[2]["delta_ap"] == pytest.approx(-0.5) and by_index[2]["first_hit_rank"] == 4
    assert by_index[1]["camera"] == 2 and by_index[1]["person_id"] == 2
    write_export(tmp_path / "q.csv", export_rows(state))
    with open(tmp_path / "q.csv", newline="") as handle:
        table = list(csv.DictReader(handle))
    assert [int(r["query_index"]) for r in table] == [row.index for row in state.visible_rows()]
    assert next(r for r in table if r["query_index"] == "1")["tags"] == "hard; label noise"
    assert next(r for r in table if r["query_index"] == "4")["delta_ap"] == ""
    written = json.loads(write_export(tmp_path / "q.json", export_rows(state), {"run": "scing"}).read_text())
    assert written["about"] == {"run": "scing"} and len(written["queries"]) == 5
    with pytest.raises(ValueError, match=r"\.csv or \.json"):
        write_export(tmp_path / "q.txt", rows)


# -- the panel ----------------------------------------------------------------------------------------------------
@pytest.fixture
def workspace(tiny_workspace, tmp_path):
    """A copy of the tiny workspace's runs (their eval folders), so tags and views written stay in this test."""
    for run in ("scing", "clipreid"):
        shutil.copytree(tiny_workspace / "runs" / run, tmp_path / "runs" / run,
                        ignore=shutil.ignore_patterns("checkpoints", "cache"))
    return tmp_path


def _panel(window, qtbot):
    window.tabs.setCurrentWidget(window.retrieval)
    panel = window.retrieval
    qtbot.waitUntil(lambda: panel.state is not None and panel.state.extras.attributes is not None, timeout=TIMEOUT)
    return panel


def test_caption_filter_in_the_attributes_row_and_no_occlusion_note(open_window, workspace, qtbot):
    panel = _panel(open_window(workspace), qtbot)
    attributes = panel.state.extras.attributes
    assert attributes.has_captions and not attributes.has_occlusion
    panel.filters.attributes_toggle.setChecked(True)
    row = panel.filters.attributes
    assert row.isVisibleTo(panel) and row.caption.isEnabled() and not row.occluded_min.isEnabled()
    assert row.note.text() == "no occlusion for this dataset"
    word = attributes.caption(0).split()[-1]
    row.caption.setText(word.upper())
    listed = panel.model.rows
    assert listed and all(word in attributes.caption(r.index) for r in listed)
    assert len(listed) == sum(word in attributes.caption(i) for i in range(panel.state.num_queries))
    assert f"caption “{word}”" in panel.count_label.text() and "(filtered)" in panel.count_label.text()
    pid = listed[0].pid
    row.identities.setText(f"{pid}, 99999")
    assert panel.model.rows and all(r.pid == pid for r in panel.model.rows)
    panel.filters.reset()
    assert panel.model.rowCount() == panel.state.num_queries and row.caption.text() == ""


def test_a_dataset_without_captions_disables_the_attribute_filters(open_window, workspace, qtbot, monkeypatch):
    from app.services import core_client

    monkeypatch.setattr(core_client, "image_annotations", lambda paths: {})
    panel = _panel(open_window(workspace), qtbot)
    row = panel.filters.attributes
    assert not row.caption.isEnabled() and not row.occluded_max.isEnabled()
    assert row.note.text() == "no captions/occlusion for this dataset"
    row.cameras.setText("1")
    assert panel.model.rows and all(r.camid == 0 for r in panel.model.rows)


def test_tags_from_the_context_menu_show_filter_and_survive_a_reopen(open_window, workspace, qtbot):
    from PySide6.QtCore import QItemSelectionModel

    from app.widgets.query_table import TAGS_COLUMN

    panel = _panel(open_window(workspace), qtbot)
    model, selection = panel.model, panel.table.selectionModel()
    panel.table.selectRow(0)
    flags = QItemSelectionModel.SelectionFlag
    selection.select(model.index(2, 0), flags.Select | flags.Rows)   # a Ctrl-click on a third row
    chosen = panel.table.selected_queries()
    assert chosen == [model.rows[0].index, model.rows[2].index]           # several rows stay selected
    menu = panel.table.tag_menu(chosen)
    hard = next(a for a in menu.actions() if "“hard”" in a.text())
    hard.trigger()
    assert model.data(model.index(0, TAGS_COLUMN)) == "hard" and model.data(model.index(2, TAGS_COLUMN)) == "hard"
    assert panel.tag_queries([model.rows[2].index], "label noise") == 1   # the tag box's way, free text
    assert model.data(model.index(2, TAGS_COLUMN)) == "hard, label noise"
    file = workspace / "studio" / "query_tags.json"
    assert len(json.loads(file.read_text())["tags"]) == 2
    panel.filters.attributes.tag.setCurrentIndex(panel.filters.attributes.tag.findData("hard"))
    assert sorted(r.index for r in model.rows) == sorted(chosen) and "tag “hard”" in panel.count_label.text()
    again = _panel(open_window(workspace), qtbot)                          # the workspace reopened
    tagged = {i: t for i, t in again.state.extras.tags.items()}
    assert tagged == {chosen[0]: ("hard",), chosen[1]: ("hard", "label noise")}


def test_a_corrupt_tag_file_shows_one_line_and_turns_tagging_off(open_window, workspace, qtbot):
    file = workspace / "studio" / "query_tags.json"
    file.parent.mkdir()
    file.write_bytes(b"{not json")
    panel = _panel(open_window(workspace), qtbot)
    assert "query_tags.json is not valid JSON" in panel.store_banner.message
    assert not panel.tag_box.isEnabled() and not panel.table.tagging_enabled
    assert panel.tag_queries([0], "hard") == 0 and file.read_bytes() == b"{not json"
    assert panel.views_bar.save_button.isEnabled()                          # views.json is fine: views still work
    file.write_text('{"version": 1, "tags": {}}')                            # fixed: the next rescan reads it
    panel.open_query_stores(workspace)
    assert panel.tag_box.isEnabled() and not panel.store_banner.message
    assert panel.tag_queries([panel.model.rows[0].index], "hard") == 1


def test_a_saved_view_round_trips_in_the_panel(open_window, workspace, qtbot):
    panel = _panel(open_window(workspace), qtbot)
    panel.filters.attributes.caption.setText("shoes")
    panel.filters.attributes.cameras.setText("2")
    panel.failures_only.setChecked(True)
    panel._header_clicked(5)   # latest first true match first
    wanted, sort = panel.browser.query_filter, panel.browser.sort_key
    assert panel.save_view("late failures") is not None
    assert (workspace / "studio" / "views.json").is_file()
    panel.filters.reset()
    panel._header_clicked(4)
    assert panel.browser.query_filter != wanted and panel.browser.sort_key != sort
    combo = panel.views_bar.views
    combo.setCurrentIndex(combo.findData("late failures"))
    combo.activated.emit(combo.currentIndex())
    assert panel.browser.query_filter == wanted and panel.browser.sort_key == sort
    assert panel.filters.current() == wanted and panel.filters.attributes.caption.text() == "shoes"
    assert panel.delete_view("late failures") and combo.findData("late failures") < 0


def test_export_writes_the_listed_queries_in_order_with_delta(open_window, workspace, qtbot, tmp_path):
    from app.widgets.query_table import DELTA_COLUMN

    panel = _panel(open_window(workspace), qtbot)
    other = next(path for path in panel.run_paths if path != panel.current_run())
    assert panel.compare_with(other)
    qtbot.waitUntil(lambda: panel.state.reference_name == other.name, timeout=TIMEOUT)
    panel.failures_only.setChecked(True)
    out = panel.export_queries(tmp_path / "out" / "queries.csv")
    with open(out, newline="") as handle:
        table = list(csv.DictReader(handle))
    assert [int(r["query_index"]) for r in table] == [row.index for row in panel.model.rows]
    for r, (written, row) in enumerate(zip(table, panel.model.rows)):
        assert written["path"] == row.path and int(written["person_id"]) == row.pid
        assert written["first_hit_rank"] == panel.model.data(panel.model.index(r, 5))
        shown = panel.model.data(panel.model.index(r, DELTA_COLUMN))
        assert shown == ("—" if written["delta_ap"] == "" else f"{100 * float(written['delta_ap']):+.1f}")
    data = json.loads(panel.export_queries(tmp_path / "queries.json").read_text())
    assert data["about"]["compared_with"] == other.name and len(data["queries"]) == panel.model.rowCount()
    assert panel.export_queries(tmp_path / "queries.xlsx") is None and ".csv or .json" in panel.banner.message


def test_restrict_queries_lists_a_selection_with_a_clearable_chip(open_window, workspace, qtbot, tmp_path):
    panel = _panel(open_window(workspace), qtbot)
    paths = panel.state.query_paths[:3]
    link = tmp_path / "elsewhere"
    os.symlink(os.path.dirname(paths[2]), link)
    asked = [paths[0], paths[1], str(link / os.path.basename(paths[2])), "/not/a/query.jpg"]
    assert panel.restrict_queries(asked, "Modality gap") == 3              # matched by resolved path
    assert sorted(r.index for r in panel.model.rows) == [0, 1, 2]
    chip = panel.views_bar.chip
    assert chip.isVisibleTo(panel) and chip.text() == "selection from Modality gap: 3 images  ×"
    assert "selection from Modality gap" in panel.count_label.text()
    chip.click()
    assert not chip.isVisibleTo(panel) and panel.model.rowCount() == panel.state.num_queries
    panel.failures_only.setChecked(True)                                    # counted with the other filters
    shown = panel.restrict_queries(paths, "Modality gap")
    assert shown == sum(panel.state.first_hit[i] > 0 for i in range(3)) == panel.model.rowCount()
    before = panel.state
    assert panel.select_run(next(path for path in panel.run_paths if path != panel.current_run()))   # another eval
    qtbot.waitUntil(lambda: panel.state is not None and panel.state is not before, timeout=TIMEOUT)
    assert panel.state.extras.restriction is None and not chip.isVisibleTo(panel)
    assert not math.isnan(float(np.nanmean(panel.state.ap)))


def test_files_the_studio_writes_get_the_usual_mode_and_keep_theirs(tmp_path):
    import os
    import stat

    from app.state.studio_files import write_text_file

    written = write_text_file(tmp_path / "export" / "queries.csv", "a,b\n")
    assert stat.S_IMODE(os.stat(written).st_mode) == 0o644      # not mkstemp's 0600: others may read an export
    os.chmod(written, 0o600)
    write_text_file(written, "a,b\n1,2\n")
    assert stat.S_IMODE(os.stat(written).st_mode) == 0o600 and written.read_text() == "a,b\n1,2\n"
