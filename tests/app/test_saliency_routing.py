"""What reaches the Saliency tab: the pair target the Retrieval tab prepared (test identities have no
text prototype), a query–gallery pair explained each by the other, † only where the core fell back to
the nearest prototype with its explanation in view, and nothing left over from another workspace."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from PySide6.QtCore import Qt

from app.state.saliency import SaliencyGrid, SaliencyRequest

FALLBACK = "pid 7 is not a training identity: nearest prototype used; cos to prototype 3 = 0.214"
PAIR_NOTE = "cos to reference = 0.912"


def _result(path, note="", target="prototype", run="scing"):
    cam = np.zeros((4, 2), dtype=np.float32)
    cam[0, 0] = 1.0
    return SimpleNamespace(path=str(path), cam=cam, image=np.zeros((4, 2, 3), np.uint8), person_share=0.5, note=note,
                           target=target, run=run, method="gradcam")


def _loaded_retrieval(window, qtbot):
    window.tabs.setCurrentWidget(window.retrieval)
    panel = window.retrieval
    qtbot.waitUntil(lambda: panel.state is not None and panel.state.selected is not None, timeout=20000)
    return panel


def test_dagger_marks_only_the_nearest_prototype_fallback():
    grid = SaliencyGrid.from_results({"scing": [_result("a", FALLBACK), _result("b", PAIR_NOTE, "image:/q.jpg")]})
    assert grid.caption(0, 0).endswith("†") and not grid.caption(1, 0).endswith("†")
    assert grid.fell_back(0, 0) and not grid.fell_back(1, 0) and grid.has_fallbacks
    assert grid.row_target(1) == "vs q.jpg" and grid.row_target(0) == ""
    pair_only = SaliencyGrid.from_results({"scing": [_result("b", PAIR_NOTE, "image:/q.jpg")]})
    assert not pair_only.has_fallbacks and pair_only.has_notes


def test_pair_request_explains_each_image_by_the_other(tmp_path):
    query, gallery = tmp_path / "q.jpg", tmp_path / "g.jpg"
    for path in (query, gallery):
        path.write_bytes(b"x")
    request = SaliencyRequest((str(query), str(gallery)), (tmp_path,), "gradcam", "pair")
    assert request.problems() == []
    parts = request.parts()
    assert [(p.image_paths, p.target) for p in parts] == [((str(query),), f"image:{gallery}"),
                                                          ((str(gallery),), f"image:{query}")]
    assert "two images" in SaliencyRequest((str(query),), (tmp_path,), "gradcam", "pair").problems()[0]
    assert SaliencyRequest((str(query),), (tmp_path,), "gradcam", "norm").parts()[0].target == "norm"


def test_workspace_change_is_told_apart_from_a_rescan(tmp_path):
    from app.state.saliency import workspace_changed

    a, b = tmp_path / "a" / "runs", tmp_path / "b" / "runs"
    assert not workspace_changed([], [a / "x"])
    assert not workspace_changed([a / "x"], [a / "x", a / "y"])            # a new run in the same workspace
    assert workspace_changed([a / "x"], [b / "x"]) and workspace_changed([a / "x"], [])


def test_compare_saliency_from_retrieval_targets_the_query_it_prepared(open_window, tiny_workspace, qtbot):
    window = open_window(tiny_workspace)
    retrieval = _loaded_retrieval(window, qtbot)
    retrieval.send_button.click()
    query = retrieval.state.selected_row.path
    request = window.saliency.request()
    assert request.target == f"image:{query}" and request.image_paths[0] == query and len(request.image_paths) == 4
    assert window.saliency.pair_widget.isVisibleTo(window.saliency)


def test_grid_shows_dagger_explanation_outside_the_scrolling_grid(open_window, tiny_workspace, qtbot):
    window = open_window(tiny_workspace)
    panel = window.saliency
    window.tabs.setCurrentWidget(panel)
    panel.state.show_outcome(({"scing": [_result("/a.jpg", FALLBACK), _result("/b.jpg", PAIR_NOTE, "image:/a.jpg")]},
                              {}))
    assert panel.grid_widget.cell_labels[(0, 0)].caption.endswith("†")
    assert not panel.grid_widget.cell_labels[(1, 0)].caption.endswith("†")
    assert panel.footnote.isVisible() and "nearest prototype" in panel.footnote.text()
    assert not panel.grid_widget.isAncestorOf(panel.footnote)             # stays in view however the grid scrolls
    panel.state.show_outcome(({"scing": [_result("/b.jpg", PAIR_NOTE, "image:/a.jpg")]}, {}))
    assert not panel.footnote.isVisible()


def test_explain_pair_explains_query_and_gallery_image_each_by_the_other(open_window, tiny_workspace, qtbot):
    window = open_window(tiny_workspace)
    retrieval = _loaded_retrieval(window, qtbot)
    query = retrieval.state.selected_row.path
    gallery = retrieval.state.hits(retrieval.state.selected, 1)[0].path
    window.saliency.explain_pair(query, gallery)
    request = window.saliency.request()
    assert window.saliency.image_paths() == [query, gallery] and request.target == "pair"
    assert request.problems() == []
    assert [part.target for part in request.parts()] == [f"image:{gallery}", f"image:{query}"]
    window.saliency.runs.set_checked([tiny_workspace / "runs" / "scing"])
    with qtbot.waitSignal(window.saliency.computed, timeout=120000) as shown:
        assert window.saliency.compute()
    grid = shown.args[0]
    assert grid.image_paths == [query, gallery] and grid.run_names == ["scing"]
    assert grid.row_target(0) == f"vs {Path(gallery).name}" and grid.row_target(1) == f"vs {Path(query).name}"
    assert not grid.has_fallbacks and not window.saliency.footnote.isVisible()   # no † with the pair target


def test_opening_another_workspace_clears_the_saliency_tab(open_window, tiny_workspace, tmp_path, qtbot):
    window = open_window(tiny_workspace)
    panel = window.saliency
    picked = tmp_path / "picked.png"
    picked.write_bytes(b"x")
    panel.set_images([str(picked)])
    panel.state.show_outcome(({"scing": [_result(picked)]}, {"cocoop": "no checkpoint yet"}))
    assert panel.banner.message and panel.grid_widget.cell_labels and panel.export_button.isEnabled()
    other = tmp_path / "other"
    shutil.copytree(tiny_workspace / "runs" / "scing", other / "runs" / "scing",
                    ignore=shutil.ignore_patterns("checkpoints", "cache"))
    scans = window.workspace.scans_done
    window.open_workspace(other)
    qtbot.waitUntil(lambda: window.workspace.scans_done > scans, timeout=20000)
    assert panel.banner.message == "" and panel.grid_widget.cell_labels == {}
    assert str(picked) not in panel.image_paths() and not panel.export_button.isEnabled()
    assert [Path(p).name for p in panel.runs.checked_paths()] == ["scing"]


def test_the_saliency_view_follows_its_state_without_a_redraw_call(qtbot, tmp_path):
    from app.panels.saliency_panel import SaliencyPanel
    from app.state.runs import RunRow
    from app.state.saliency import START_TEXT

    panel = SaliencyPanel()
    qtbot.addWidget(panel)
    state = panel.state
    rows = [RunRow(name, tmp_path / "runs" / name, name, "synthped", "completed") for name in ("clipreid", "scing")]
    state.set_workspace(tmp_path, rows)
    assert panel.runs.count() == 2 and [Path(p).name for p in panel.runs.checked_paths()] == ["clipreid", "scing"]
    state.set_checked([tmp_path / "runs" / "scing"])
    assert [panel.runs.item(i).checkState() == Qt.CheckState.Checked for i in range(2)] == [False, True]
    state.set_images(["/q.jpg", "/g.jpg"], pair_with_first=True)
    assert panel.images.count() == 2 and panel.pair_path.text() == "/q.jpg"
    assert panel.target.currentData() == "image" and panel.pair_widget.isVisibleTo(panel)
    state.set_methods(["gradcam", "scorecam"])
    assert [panel.method.itemText(i) for i in range(panel.method.count())] == ["gradcam", "scorecam"]
    with qtbot.waitSignal(panel.computed, timeout=1000):
        state.show_outcome(({"scing": [_result("/q.jpg", FALLBACK)]}, {"clipreid": "no checkpoint yet"}))
    assert panel.grid_widget.cell_labels[(0, 0)].caption.endswith("†") and panel.footnote.isVisibleTo(panel)
    assert panel.export_button.isEnabled() and panel.banner.message == "clipreid: no checkpoint yet"
    state.set_workspace(tmp_path / "other", rows[:1])
    assert panel.images.count() == 0 and panel.grid_widget.cell_labels == {} and panel.banner.message == ""
    assert not panel.export_button.isEnabled() and panel.grid_widget.widget().text() == START_TEXT


def test_grid_headers_show_the_part_of_run_names_that_differs(qtbot, tmp_path):
    from PySide6.QtWidgets import QLabel

    from app.panels.saliency_panel import SaliencyPanel
    from app.state.runs import RunRow

    names = ["scing-synthped_occluded-demo_quick-lr1e-4-pdca-gate_off-seed0",
             "scing-synthped_occluded-demo_quick-lr1e-4-pdca-gate_on-seed0"]
    panel = SaliencyPanel()
    qtbot.addWidget(panel)
    rows = [RunRow(name, tmp_path / "runs" / name, "scing", "synthped", "completed") for name in names]
    panel.state.set_workspace(tmp_path, rows)
    with qtbot.waitSignal(panel.computed, timeout=10000):
        panel.state.show_outcome(({name: [_result("/q.jpg", run=name)] for name in names}, {}))
    headers = [label for label in panel.grid_widget.widget().findChildren(QLabel) if label.toolTip() in names]
    assert sorted(label.toolTip() for label in headers) == sorted(names)
    for label in headers:
        shown = label.text().replace("\u200b", "")
        assert label.toolTip() not in shown                         # not the whole 60-character name
        assert ("gate_off" in shown) == label.toolTip().endswith("gate_off-seed0")
