"""Issue 20: a click on a Modality-gap point opens what the point is (a query in Retrieval, keeping the
comparison; any other image in Dataset) and its hover says which; the Dataset tab shows an image another
tab asks for; the strips' rank badges count as '1st hit' does (junk left out); filters that hide every
query leave no identity's true matches on screen; a failed comparison leaves "vs" at "—"; another
workspace resets the Saliency target."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

from PySide6.QtCore import Qt
from scing_core import api

from app.services import core_client
from app.state.gap_view import eval_folder_for
from app.state.retrieval import DIFFERENT, JUNK, SAME, RetrievalState
from app.state.retrieval_side_by_side import side_by_side
from tests.support import compute_gap_of_scing

TIMEOUT = 60000


def _retrieval_loaded(window, qtbot, run=None):
    panel = window.retrieval
    if run is not None:
        panel.select_run(run)
    qtbot.waitUntil(lambda: panel.state is not None and panel.state.selected is not None
                    and (run is None or panel.current_run() == run), timeout=TIMEOUT)
    return panel


def _compare(panel, qtbot, other: Path) -> None:
    assert panel.compare_with(other)
    qtbot.waitUntil(lambda: panel.state is not None and panel.state.reference_name == other.name, timeout=TIMEOUT)


def _retrieval_shows(panel) -> tuple:
    state = panel.state
    return (panel.current_run(), panel.eval_combo.currentText(), panel.compare_combo.currentData(),
            state.reference_name, state.selected_row.path if state.selected_row is not None else None)



def _hover(panel, qtbot, index: int):
    """Hover image point ``index``: (the point under the mouse, its text)."""
    with qtbot.waitSignal(panel.plots.pointHovered, timeout=5000) as hovered:
        qtbot.mouseMove(panel.plots.plots[0].viewport(), panel.plots.widget_pos_of(0, "image", index))
    point, text = hovered.args
    assert point.kind == "image"
    return point, text


def _click(panel, qtbot, index: int) -> None:
    """Open the point: a double click (a single click selects it: tests/app/test_issue20_gap_views.py)."""
    for _ in range(2):
        qtbot.mouseClick(panel.plots.plots[0].viewport(), Qt.MouseButton.LeftButton,
                         pos=panel.plots.widget_pos_of(0, "image", index))


def _shown_in_dataset(window, qtbot, path: str) -> None:
    grid = window.dataset.grid
    qtbot.waitUntil(lambda: [tile.sample.path for tile in grid.marked_tiles()] == [path], timeout=TIMEOUT)
    assert window.tabs.currentWidget() is window.dataset
    assert window.dataset.state.identity == window.dataset.state.summary.identity_of(path)


# -- Modality gap: a click opens what the point is -------------------------------------------------------------
def test_a_training_image_point_says_and_shows_it_in_dataset_and_leaves_retrieval_alone(open_window, tiny_workspace,
                                                                                      qtbot):
    window = open_window(tiny_workspace)
    retrieval = _retrieval_loaded(window, qtbot)
    _compare(retrieval, qtbot, next(p for p in retrieval.run_paths if p != retrieval.current_run()))
    before = _retrieval_shows(retrieval)
    panel, result = compute_gap_of_scing(window, qtbot, "train")
    point, text = _hover(panel, qtbot, 0)
    assert "click: show this image in Dataset" in text and "Retrieval" not in text
    assert "click: show this image in Dataset" in panel.hover_info.text()
    path = result.paths[point.index]
    _click(panel, qtbot, point.index)
    _shown_in_dataset(window, qtbot, path)
    assert _retrieval_shows(retrieval) == before   # same run, eval, comparison and query


def test_query_points_open_in_retrieval_keeping_vs_and_other_points_show_in_dataset(open_window, tiny_workspace,
                                                                                   qtbot):
    window = open_window(tiny_workspace)
    retrieval = _retrieval_loaded(window, qtbot)
    runs = {path.name: path for path in retrieval.run_paths}
    _retrieval_loaded(window, qtbot, runs["clipreid"])
    _compare(retrieval, qtbot, runs["cocoop"])
    panel, result = compute_gap_of_scing(window, qtbot, "test")
    queries = [i for i, path in enumerate(result.paths) if Path(path).parent.name == "query"]
    gallery = next(i for i, path in enumerate(result.paths) if Path(path).parent.name != "query")
    folder = eval_folder_for(result.paths[queries[0]], core_client.eval_folders(runs["scing"]))
    assert panel.state.views[0].queries == {result.paths[i]: folder for i in queries}

    point, text = _hover(panel, qtbot, queries[0])
    assert "click: open this query in Retrieval" in text and "Dataset" not in text
    with qtbot.waitSignal(window.gap_query_link.routed, timeout=TIMEOUT) as routed:
        _click(panel, qtbot, point.index)
    assert routed.args[0] is True and window.tabs.currentWidget() is retrieval
    qtbot.waitUntil(lambda: retrieval.state.reference_name == "cocoop", timeout=TIMEOUT)   # the comparison stays
    assert _retrieval_shows(retrieval) == (runs["scing"], folder, str(runs["cocoop"]), "cocoop",
                                           result.paths[point.index])

    _retrieval_loaded(window, qtbot, runs["clipreid"])   # clipreid vs scing, then a point of scing's plot
    _compare(retrieval, qtbot, runs["scing"])
    window.tabs.setCurrentWidget(panel)
    point, _ = _hover(panel, qtbot, queries[-1])
    with qtbot.waitSignal(window.gap_query_link.routed, timeout=TIMEOUT) as routed:
        _click(panel, qtbot, point.index)
    assert routed.args[0] is True
    qtbot.waitUntil(lambda: retrieval.state.reference_name == "clipreid", timeout=TIMEOUT)   # the two trade places
    assert _retrieval_shows(retrieval) == (runs["scing"], folder, str(runs["clipreid"]), "clipreid",
                                           result.paths[point.index])

    before = _retrieval_shows(retrieval)
    window.tabs.setCurrentWidget(panel)
    point, text = _hover(panel, qtbot, gallery)
    assert "click: show this image in Dataset" in text
    _click(panel, qtbot, point.index)
    _shown_in_dataset(window, qtbot, result.paths[point.index])
    assert _retrieval_shows(retrieval) == before


def test_the_dataset_tab_shows_an_image_another_tab_asks_for(open_window, tiny_workspace, tiny_synthped, qtbot):
    window = open_window(tiny_workspace)
    panel = window.dataset
    dataset = api.load_dataset("synthped", tiny_synthped)
    query, training = dataset.query[3], dataset.train[5]
    panel.group.setCurrentText("train identities")
    panel.show_image(query.path, "synthped")   # no dataset open yet: SynthPed opens first
    qtbot.waitUntil(lambda: [t.sample.path for t in panel.grid.marked_tiles()] == [query.path], timeout=TIMEOUT)
    assert panel.state.identity == ("test", query.pid) and panel.group.currentText() == "query + gallery identities"
    panel.show_image(training.path, "synthped")   # the same dataset: no reload, its group and identity
    qtbot.waitUntil(lambda: [t.sample.path for t in panel.grid.marked_tiles()] == [training.path], timeout=TIMEOUT)
    own = dataset.dataset_pid("train", training.pid)   # the Dataset tab names people by the dataset's own ids
    assert panel.state.identity == ("train", own) and panel.group.currentText() == "train identities"
    assert tuple(panel.identities.currentItem().data(Qt.ItemDataRole.UserRole)) == ("train", own)


def test_the_dataset_state_opens_the_dataset_of_an_image_then_points_the_image_out():
    from app.state.dataset_summary import DatasetState, DatasetSummary

    samples = {"train": [SimpleNamespace(path=f"/d/train/{pid}_{i}.jpg", pid=pid, camid=i) for pid in (0, 1)
                         for i in range(2)],
               "query": [SimpleNamespace(path="/d/query/5_0.jpg", pid=5, camid=0)],
               "gallery": [SimpleNamespace(path="/d/gallery/5_1.jpg", pid=5, camid=1)]}
    summary = DatasetSummary.from_dataset("synthped", SimpleNamespace(root="/d", split=lambda split: samples[split]))
    state = DatasetState(["market1501", "synthped"])
    state.set_group("train identities")
    ticket, name, root = state.show_image("/d/query/5_0.jpg", "synthped")   # nothing open: its dataset first
    assert (name, root) == ("synthped", "/d") and state.image is None
    state.show_loaded(ticket, summary)
    assert (state.group, state.identity, state.image) == ("query + gallery identities", ("test", 5), "/d/query/5_0.jpg")
    assert state.show_image("/d/train/1_1.jpg", "synthped") is None   # the dataset shown holds it
    assert (state.group, state.identity, state.image) == ("train identities", ("train", 1), "/d/train/1_1.jpg")
    state.select_identity(("train", 0))   # another identity chosen by hand: nothing pointed out
    assert state.image is None
    ticket, _, _ = state.show_image("/e/query/9_0.jpg", "synthped")
    state.show_loaded(ticket, summary)
    assert "9_0.jpg is no image of an identity of synthped" in state.error and state.image is None


# -- Retrieval: ranks, filters hiding every query, a failed comparison -----------------------------------------
def _junk_first_state() -> RetrievalState:
    """One query whose list is junk, another identity, then its own identity from another camera."""
    return RetrievalState(["/q/0001_c1.jpg"], [1], [0], ["/g/a.jpg", "/g/b.jpg", "/g/c.jpg", "/g/d.jpg"],
                          [1, 2, 1, 1], [0, 1, 1, 2], [[0, 1, 2, 3]], [[0.1, 0.2, 0.3, 0.4]],
                          [[True, False, False, False]], [0.5], [1])


def test_ranks_count_without_junk_as_the_first_hit_does():
    state = _junk_first_state()
    hits = state.hits(0, 4)
    assert [(h.kind, h.rank, h.counted_rank) for h in hits] == [(JUNK, 1, 0), (DIFFERENT, 2, 1), (SAME, 3, 2),
                                                               (SAME, 4, 3)]
    first_same = next(h for h in hits if h.kind == SAME)
    assert first_same.counted_rank == state.first_hit[0] + 1
    assert [(m.rank, m.counted_rank) for m in state.true_matches(0)] == [(3, 2), (4, 3)]
    state.set_reference_state("other", _junk_first_state())
    assert side_by_side(state, 0, 4).counted_rank_elsewhere("/g/c.jpg", in_theirs=True) == 2


def test_strip_badges_count_ranks_as_the_first_hit_column(open_window, tiny_workspace, qtbot):
    panel = _retrieval_loaded(open_window(tiny_workspace), qtbot)
    k = panel.browser.k
    checked = 0
    for row in panel.state.visible_rows():
        if not 0 <= row.first_hit < k:
            continue
        panel.state.select(row.index)
        specs = panel.strip.specs()
        first_same = next(spec for spec in specs if spec.kind == "same")
        assert first_same.badge == panel.model.data(panel.model.index(panel.model.position_of(row.index), 5))
        assert all(spec.badge == "" for spec in specs if spec.kind == "junk")
        assert panel.matches.specs()[0].badge == str(row.first_hit + 1)
        checked += 1
    assert checked


def test_filters_that_hide_every_query_leave_no_true_matches_on_screen(open_window, tiny_workspace, qtbot):
    panel = _retrieval_loaded(open_window(tiny_workspace), qtbot)
    assert "of identity" in panel.matches_title.text() and panel.matches.tiles
    panel.filters.identity.setText("987654")   # no query has this identity
    assert panel.state.num_visible == 0 and panel.state.selected is None
    assert "identity" not in panel.matches_title.text()
    assert "the filters hide every query" in panel.matches_title.text()
    assert panel.matches.tiles == [] and panel.strip.tiles == [] and not panel.query_tile.isVisibleTo(panel)
    assert not panel.matches.empty_label.isVisibleTo(panel)   # no 'no gallery image of this identity'
    assert "hide every query" in panel.strip.empty_label.text()
    panel.filters.identity.setText("")
    assert panel.state.selected is not None and "of identity" in panel.matches_title.text() and panel.matches.tiles


def test_a_comparison_that_fails_returns_vs_to_none(open_window, tiny_workspace, tmp_path, qtbot):
    for name, method in {"a-good": "scing", "z-garbage": "clipreid"}.items():
        shutil.copytree(tiny_workspace / "runs" / method, tmp_path / "runs" / name,
                        ignore=shutil.ignore_patterns("checkpoints", "cache"))
    for file in (tmp_path / "runs" / "z-garbage" / "eval").rglob("*"):
        if file.is_file():
            file.write_bytes(b"\xff\xfe\x00garbage\x9c")
    panel = _retrieval_loaded(open_window(tmp_path), qtbot)
    assert panel.current_run().name == "a-good"
    with qtbot.waitSignal(panel.errorOccurred, timeout=TIMEOUT) as failed:
        assert panel.compare_with(tmp_path / "runs" / "z-garbage")
    assert "cannot compare with z-garbage" in failed.args[0] and "cannot compare" in panel.banner.message
    assert panel.compare_combo.currentIndex() == 0 and panel.compare_combo.currentData() is None
    assert panel.state.reference_name is None and "vs " not in panel.summary.text()
    assert not panel.versus_box.isVisibleTo(panel)


# -- Saliency: another workspace resets the target ----------------------------------------------------------------
def test_another_workspace_resets_the_saliency_target(qtbot, tmp_path):
    from app.panels.saliency_panel import SaliencyPanel
    from app.state.runs import RunRow

    panel = SaliencyPanel()
    qtbot.addWidget(panel)
    state = panel.state

    def rows(workspace):
        return [RunRow("scing", tmp_path / workspace / "runs" / "scing", "scing", "synthped", "completed")]

    image = tmp_path / "person.png"
    image.write_bytes(b"x")
    for workspace, prepare in (("a", lambda: state.set_images(["/q.jpg", "/g.jpg"], pair_with_first=True)),
                               ("c", lambda: state.explain_pair("/q.jpg", "/g.jpg"))):
        state.set_workspace(tmp_path / workspace, rows(workspace))
        prepare()
        assert state.inputs.target in ("image", "pair")
        state.set_workspace(tmp_path / f"{workspace}-next", rows(f"{workspace}-next"))
        assert state.inputs.target == "prototype" and state.inputs.pair_image == ""
        assert panel.target.currentData() == "prototype" and not panel.pair_widget.isVisibleTo(panel)
        state.add_images([str(image)])
        assert panel.image_paths() == [str(image)]
        assert state.request().target == "prototype" and state.request().problems() == []
