"""Issue 20, Modality gap as an embedding projector: colour by identity / camera / occlusion / split, find a
point by path or identity, the selected point's nearest neighbours in the embedding (not the projection),
a lasso whose query images go to Retrieval as a filter; embeddings computed once and reused (a projection
change never embeds again), and a long projection that can be cancelled, the plots shown staying."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from scing_core import api

from app.services.embedding_process import ProjectionCancelled, ProjectionProcess
from app.state.gap_colours import colourings, unavailable
from app.state.gap_neighbours import nearest_neighbours, projected_neighbours
from app.state.gap_search import search_points
from app.state.gap_view import IMAGE, TEXT, GapView, HoveredPoint
from app.state.lasso import inside_polygon
from tests.support import compute_gap_of_scing

TIMEOUT = 60000


# -- pure computations --------------------------------------------------------------------------------------
def _view(image_emb, text_emb, image_xy, text_xy, pids, annotations=None, facts=None) -> GapView:
    paths = [f"/data/query/{i:04d}_c1.jpg" for i in range(len(image_emb))]
    return GapView("/runs/r", "r", "conditioned", np.asarray(image_xy, float), np.asarray(text_xy, float),
                   np.asarray(pids), paths, annotations or {}, {}, facts or {},
                   *(e / np.linalg.norm(e, axis=1, keepdims=True) for e in map(np.asarray, (image_emb, text_emb))))


def test_the_nearest_neighbours_are_the_brute_force_cosine_ranking_of_the_embedding():
    rng = np.random.default_rng(3)
    images, texts = rng.normal(size=(20, 16)), rng.normal(size=(20, 16))
    view = _view(images, texts, rng.normal(size=(20, 2)), rng.normal(size=(20, 2)), np.arange(20) // 4)
    got = nearest_neighbours(view, IMAGE, 5)
    rows = np.vstack([view.image_emb, view.text_emb]).astype(np.float64)
    names = [(IMAGE, i) for i in range(20)] + [(TEXT, i) for i in range(20)]
    distance = 1 - rows @ rows[5]
    brute = [names[i] for i in np.argsort(distance, kind="stable") if names[i] != (IMAGE, 5)][:10]
    assert [(n.kind, n.index) for n in got] == brute and len(got) == 10
    assert np.allclose([n.distance for n in got], sorted(distance[[names.index(b) for b in brute]]), atol=1e-6)
    assert got[0].distance <= got[-1].distance


def test_the_neighbours_differ_from_the_projections_ranking_when_the_projection_misleads():
    """Point 1 is the anchor's twin in the embedding but far away in the (constructed) projection."""
    images = np.array([[1, 0, 0], [0.99, 0.14, 0], [0, 1, 0], [0, 0, 1], [0.5, 0.5, 0.7]], float)
    texts = np.array([[0, 1, 0.2], [0.2, 0, 1], [0.7, 0.7, 0], [0, 0.6, 0.8], [0.3, 0.9, 0.3]], float)
    image_xy = np.array([[0, 0], [9, 9], [0.1, 0], [0, 0.2], [5, 5]], float)
    text_xy = np.array([[3, 3], [4, 4], [6, 6], [7, 7], [8, 8]], float)
    view = _view(images, texts, image_xy, text_xy, [1, 1, 2, 2, 3])
    embedded = [(n.kind, n.index) for n in nearest_neighbours(view, IMAGE, 0, k=3)]
    projected = projected_neighbours(view, IMAGE, 0, k=3)
    assert embedded[0] == (IMAGE, 1) and projected[:2] == [(IMAGE, 2), (IMAGE, 3)]
    assert embedded != projected


def test_a_shared_prototype_is_one_neighbour_and_a_text_point_leaves_out_its_own_row():
    images = np.eye(4)
    texts = np.array([[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1], [0, 0, 1, 1]], float)
    view = _view(images, texts, np.zeros((4, 2)), np.zeros((4, 2)), [1, 1, 2, 2])
    of_image = [(n.kind, n.index) for n in nearest_neighbours(view, IMAGE, 0)]
    assert of_image.count((TEXT, 0)) == 1 and (TEXT, 1) not in of_image and len(of_image) == 3 + 2
    of_text = [(n.kind, n.index) for n in nearest_neighbours(view, TEXT, 1)]
    assert (TEXT, 0) not in of_text and (TEXT, 1) not in of_text and of_text[:2] == [(IMAGE, 0), (IMAGE, 1)]


def test_the_lasso_keeps_the_points_inside_a_concave_polygon():
    u_shape = [(0, 0), (3, 0), (3, 3), (2, 3), (2, 1), (1, 1), (1, 3), (0, 3)]
    points = [(0.5, 2), (1.5, 2), (2.5, 2), (1.5, 0.5), (4, 1), (-1, 1)]
    assert inside_polygon(points, u_shape).tolist() == [True, False, True, True, False, False]
    assert not inside_polygon(points, [(0, 0), (1, 1)]).any()


def test_colourings_by_identity_occlusion_camera_and_split():
    view = _view(np.eye(4), np.eye(4), np.zeros((4, 2)), np.zeros((4, 2)), [7, 7, 9, 30],
                 annotations={"/data/query/0000_c1.jpg": {"occlusion": 0.5}, "/data/query/0001_c1.jpg": {"occlusion": None}},
                 facts={"/data/query/0000_c1.jpg": {"camera": 2, "split": "query"}})
    (by_id,) = colourings([view], "identity")
    assert (by_id.image_rgba[0] == by_id.image_rgba[1]).all() and not (by_id.image_rgba[0] == by_id.image_rgba[2]).all()
    assert [label for label, _ in by_id.legend] == ["id 7", "id 9", "id 30"]
    (by_occlusion,) = colourings([view], "occlusion")
    assert by_occlusion.ramp is not None and not (by_occlusion.image_rgba[0] == by_occlusion.image_rgba[1]).all()
    assert tuple(by_occlusion.image_rgba[3]) == (170, 170, 170, 255)   # not annotated: grey
    assert unavailable([view], "occlusion") == "" and unavailable([view], "camera") == ""
    bare = _view(np.eye(2), np.eye(2), np.zeros((2, 2)), np.zeros((2, 2)), [1, 2])
    assert "no occlusion annotations" in unavailable([bare], "occlusion")
    assert "not known" in unavailable([bare], "camera") and "not known" in unavailable([bare], "split")
    (by_split,) = colourings([view], "split")
    assert [label for label, _ in by_split.legend] == ["query"]


def test_find_by_identity_by_path_and_no_match():
    view = _view(np.eye(4), np.eye(4), np.zeros((4, 2)), np.zeros((4, 2)), [7, 7, 9, 30])
    assert search_points([view], "7").found == ((0, 0), (0, 1))
    assert search_points([view], "0003_C1").found == ((0, 3),)
    missing = search_points([view], "nobody")
    assert missing.found == () and missing.message == "no point matches 'nobody'"


# -- the projection process: cancel stops it --------------------------------------------------------------------
def test_cancel_stops_a_running_tsne_in_the_projection_process():
    projector = ProjectionProcess()
    rng = np.random.default_rng(0)
    images, texts = rng.normal(size=(2500, 32)), rng.normal(size=(2500, 32))
    outcome = {}

    def run():
        try:
            outcome["xy"] = projector.project(images, texts, "tsne")
        except Exception as error:   # noqa: BLE001 — what the worker would report
            outcome["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 60
    while not projector.projecting and time.monotonic() < deadline:
        thread.join(0.05)
    processes = list((getattr(projector._executor, "_processes", None) or {}).values())
    assert projector.cancel() is True
    thread.join(30)
    assert not thread.is_alive() and isinstance(outcome.get("error"), ProjectionCancelled)
    assert processes and all(not p.is_alive() for p in processes)
    assert projector.cancel() is False
    projector.shutdown()


# -- the panel ------------------------------------------------------------------------------------------------
@pytest.fixture
def embeddings_counted(monkeypatch):
    calls = []
    real = api.collect_gap_embeddings

    def counted(run_dir, **kwargs):
        calls.append(Path(run_dir).name)
        return real(run_dir, **kwargs)

    monkeypatch.setattr(api, "collect_gap_embeddings", counted)
    return calls



def _choose(combo, key) -> None:
    combo.setCurrentIndex(combo.findData(key))


def test_changing_the_projection_reprojects_without_embedding_again(open_window, tiny_workspace, qtbot,
                                                                     embeddings_counted):
    window = open_window(tiny_workspace)
    panel, first = compute_gap_of_scing(window, qtbot)
    assert embeddings_counted == ["scing"]
    with qtbot.waitSignal(panel.computed, timeout=180000) as shown:
        _choose(panel.projection, "tsne")   # only the projection changed: it re-projects by itself
    (tsne,) = shown.args[0]
    assert tsne.projection == "tsne" and not np.allclose(tsne.image_xy, first.image_xy)
    with qtbot.waitSignal(panel.computed, timeout=60000) as shown:
        _choose(panel.projection, "pca")
    assert np.allclose(shown.args[0][0].image_xy, first.image_xy)
    assert embeddings_counted == ["scing"]   # embedded once
    panel.ids.setValue(3)   # other identities: embeds anew
    with qtbot.waitSignal(panel.computed, timeout=180000):
        assert panel.compute()
    assert embeddings_counted == ["scing", "scing"]


def test_colour_by_recolours_without_computing_and_disables_what_the_data_lacks(open_window, tiny_workspace, qtbot,
                                                                                embeddings_counted):
    window = open_window(tiny_workspace)
    panel, result = compute_gap_of_scing(window, qtbot)
    tools = panel.view_tools
    scatter = panel.plots.scatters[0][IMAGE]
    before = [b.color().name() for b in scatter.data["brush"]]
    assert set(before) == {"#d62728"}   # modality: images red
    _choose(tools.colour.combo, "identity")
    after = [b.color().name() for b in scatter.data["brush"]]
    pids = list(result.dataset_pids)
    assert len(set(after)) == len(set(pids)) and all(after[i] == after[pids.index(p)] for i, p in enumerate(pids))
    assert "id " in tools.colour.legend.text() and not panel.state.busy and embeddings_counted == ["scing"]
    for key in ("camera", "split", "occlusion"):
        row = tools.colour.combo.findData(key)
        enabled = tools.colour.combo.model().item(row).isEnabled()
        assert enabled or tools.colour.combo.itemData(row, Qt.ItemDataRole.ToolTipRole)
    _choose(tools.colour.combo, "split")
    assert {b.color().name() for b in scatter.data["brush"]} <= {"#d62728", "#1f77b4"}   # query red, gallery blue
    assert "gallery" in tools.colour.legend.text() and "query" in tools.colour.legend.text()


def test_a_click_selects_a_point_and_lists_its_nearest_neighbours_in_the_embedding(open_window, tiny_workspace,
                                                                                    qtbot):
    window = open_window(tiny_workspace)
    panel, result = compute_gap_of_scing(window, qtbot, split="train")
    tools = panel.view_tools
    with qtbot.waitSignal(panel.plots.pointSelected, timeout=5000):
        qtbot.mouseClick(panel.plots.plots[0].viewport(), Qt.MouseButton.LeftButton,
                         pos=panel.plots.widget_pos_of(0, IMAGE, 2))
    assert window.tabs.currentWidget() is panel   # a single click opens nothing
    assert panel.state.selection.selected == HoveredPoint(result.run, IMAGE, 2)
    expected = nearest_neighbours(panel.state.views[0], IMAGE, 2)
    table = tools.neighbours.list
    assert table.rowCount() == 10 == len(expected)
    assert [table.item(r, 3).text() for r in range(10)] == [f"{n.distance:.3f}" for n in expected]
    assert panel.plots.marks[0].counts()["selected"] == 1
    table.cellClicked.emit(4, 1)   # a neighbour: it becomes the selected point
    assert panel.state.selection.selected == HoveredPoint(result.run, expected[4].kind, expected[4].index)


def test_find_rings_an_identitys_points_and_says_when_nothing_matches(open_window, tiny_workspace, qtbot):
    window = open_window(tiny_workspace)
    panel, result = compute_gap_of_scing(window, qtbot)
    find = panel.view_tools.find
    pid = int(result.dataset_pids[0])
    find.edit.setText(str(pid))
    find.edit.returnPressed.emit()
    assert panel.plots.marks[0].counts()["found"] == int(np.sum(result.dataset_pids == pid))
    assert f"identity {pid}" in find.message.text()
    name = Path(result.paths[5]).name
    find.edit.setText(name)
    find.edit.returnPressed.emit()
    assert panel.state.selection.selected == HoveredPoint(result.run, IMAGE, 5)   # one match: selected
    find.edit.setText("no-such-image")
    find.edit.returnPressed.emit()
    assert find.message.text() == "no point matches 'no-such-image'" and panel.plots.marks[0].counts()["found"] == 0


def _drag_lasso(qtbot, plot, corners) -> None:
    viewport = plot.viewport()
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=corners[0])
    for corner in corners[1:]:
        for step in range(1, 6):   # several moves per edge, like a hand
            previous = corners[corners.index(corner) - 1]
            qtbot.mouseMove(viewport, previous + (corner - previous) * step / 5)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=corners[-1])


def test_the_lasso_selects_points_and_sends_its_queries_to_retrieval(open_window, tiny_workspace, qtbot, monkeypatch):
    from app.widgets.plotting import pg

    monkeypatch.setitem(pg.CONFIG_OPTIONS, "mouseRateLimit", 0)   # the test's moves come faster than a hand's
    window = open_window(tiny_workspace)
    panel, result = compute_gap_of_scing(window, qtbot)
    tools, plot = panel.view_tools, panel.plots.plots[0]
    tools.lasso.toggle.setChecked(True)
    box = plot.getPlotItem().getViewBox()
    rect = plot.mapFromScene(box.sceneBoundingRect()).boundingRect().adjusted(6, 6, -6, -6)   # the plot's area
    corners = [rect.topLeft(), rect.topRight(), rect.bottomRight(), rect.bottomLeft(), rect.topLeft() + QPoint(0, 2)]
    with qtbot.waitSignal(panel.plots.lassoDrawn, timeout=5000):
        _drag_lasso(qtbot, plot, corners)
    lassoed = panel.state.selection.lassoed
    assert lassoed and lassoed[0] == 0 and len(lassoed[1]) == len(result.paths)   # the whole plot: every image
    assert f"{len(result.paths)} image point(s) lassoed" in tools.lasso.count.text()
    send = panel.state.selection.queries_to_send()
    queries = [p for p in result.paths if Path(p).parent.name == "query"]
    assert set(send.paths) == set(queries) and send.ignored == len(result.paths) - len(queries)
    assert tools.lasso.send.isEnabled()
    retrieval = window.retrieval
    with qtbot.waitSignal(window.gap_query_link.routed, timeout=TIMEOUT) as routed:
        with qtbot.waitSignal(panel.sendQueries, timeout=5000) as sent:
            tools.lasso.send.click()
    assert sent.args[0] == result.run and set(sent.args[2]) == set(queries)
    if hasattr(retrieval, "restrict_queries"):   # the Retrieval side (another part of issue 20)
        assert routed.args[0] is True and window.tabs.currentWidget() is retrieval
        assert {row.path for row in retrieval.state.visible_rows()} == set(queries)
    else:
        assert routed.args == [False, "this Retrieval panel cannot restrict its query list"]
    tools.lasso.clear.click()
    assert panel.state.selection.lassoed == () and panel.plots.marks[0].counts()["lassoed"] == 0


def test_cancel_leaves_the_plots_shown_and_drops_the_late_projection(open_window, tiny_workspace, qtbot):
    window = open_window(tiny_workspace)
    panel, first = compute_gap_of_scing(window, qtbot)
    plots_before = list(panel.plots.plots)
    release = threading.Event()
    real = panel.projector.project

    def slow(image_emb, text_emb, method, seed=0):
        release.wait(60)
        return real(image_emb, text_emb, "pca", seed)

    panel.projector.project = slow
    _choose(panel.projection, "umap")   # re-projects by itself
    busy = panel.view_tools.busy
    qtbot.waitUntil(lambda: busy.isVisible() and panel.state.busy, timeout=TIMEOUT)
    busy.cancel.click()
    assert not panel.state.busy and not busy.isVisible() and "cancelled" in panel.progress.text()
    assert panel.plots.plots == plots_before and panel.compute_button.isEnabled()
    release.set()
    qtbot.waitUntil(lambda: not panel.workers.busy, timeout=TIMEOUT)
    assert panel.plots.plots == plots_before and panel.state.results[0] is first
