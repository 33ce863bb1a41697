"""The modality-gap plot as a linked embedding view: hover shows a point's image and identity, a click on
a query image opens it in Retrieval (any other image opens in Dataset: tests/app/test_issue20_links_ids.py),
the plots zoom and pan, and UMAP / t-SNE run outside the studio process."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QPointF, Qt

from app.services import core_client


def _computed(window, qtbot, projection="pca", split="test"):
    panel = window.gap
    window.tabs.setCurrentWidget(panel)
    panel.runs.set_checked([p for p in panel.runs.checked_paths() if Path(p).name == "scing"])
    panel.ids.setValue(4)
    panel.projection.setCurrentIndex(panel.projection.findData(projection))
    panel.split.setCurrentIndex(panel.split.findData(split))
    with qtbot.waitSignal(panel.computed, timeout=180000) as shown:
        assert panel.compute()
    plot = panel.plots.plots[0]
    qtbot.waitUntil(lambda: plot.viewport().rect().contains(panel.plots.widget_pos_of(0, "image", 0)), timeout=5000)
    return panel, shown.args[0]


def test_hovering_an_image_point_shows_its_image_identity_and_caption(open_window, tiny_workspace, qtbot):
    window = open_window(tiny_workspace)
    panel, (result,) = _computed(window, qtbot)
    index = 3
    with qtbot.waitSignal(panel.plots.pointHovered, timeout=5000) as hovered:
        qtbot.mouseMove(panel.plots.plots[0].viewport(), panel.plots.widget_pos_of(0, "image", index))
    point, text = hovered.args
    assert (point.kind, point.index) == ("image", index)
    path = result.paths[index]
    assert Path(path).as_uri() in text and f"identity <b>{result.pids[index]}</b>" in text
    caption = api_caption(path)
    assert caption and caption in text   # SynthPed's caption of that image
    assert Path(path).as_uri() in panel.hover_info.text()


def api_caption(path):
    from scing_core import api

    return api.image_annotations([path])[path]["caption"]


def test_hovering_a_text_point_names_the_text_and_its_identity(open_window, tiny_workspace, qtbot):
    window = open_window(tiny_workspace)
    panel, (result,) = _computed(window, qtbot, split="train")
    with qtbot.waitSignal(panel.plots.pointHovered, timeout=5000) as hovered:
        qtbot.mouseMove(panel.plots.plots[0].viewport(), panel.plots.widget_pos_of(0, "text", 0))
    point, text = hovered.args
    own = result.dataset_pids[point.index]   # the dataset's id (the file name's), not the training label
    assert point.kind == "text" and "<b>text</b>" in text and f"identity <b>{own}</b>" in text


def test_clicking_a_query_image_point_opens_that_query_of_that_run_in_retrieval(open_window, tiny_workspace, qtbot):
    window = open_window(tiny_workspace)
    panel, (result,) = _computed(window, qtbot)
    index = next(i for i, path in enumerate(result.paths) if Path(path).parent.name == "query")
    with qtbot.waitSignal(window.gap_query_link.routed, timeout=30000) as routed:
        with qtbot.waitSignal(panel.openQuery, timeout=5000) as opened:
            for _ in range(2):   # a double click opens (a single click selects)
                qtbot.mouseClick(panel.plots.plots[0].viewport(), Qt.MouseButton.LeftButton,
                                 pos=panel.plots.widget_pos_of(0, "image", index))
    assert opened.args == [result.run, result.paths[index]]
    assert routed.args[0] is True
    assert window.tabs.currentWidget() is window.retrieval
    assert window.retrieval.current_run() == Path(result.run)
    assert window.retrieval.state.selected_row.path == result.paths[index]


def test_the_gap_plots_zoom_pan_and_reset(open_window, tiny_workspace, qtbot):
    window = open_window(tiny_workspace)
    panel, _ = _computed(window, qtbot)
    box = panel.plots.plots[0].getPlotItem().getViewBox()
    assert box.state["mouseEnabled"] == [True, True]
    before = np.array(box.viewRange())
    box.scaleBy((0.25, 0.25))
    box.translateBy(QPointF(0.1, 0.1))
    assert not np.allclose(np.array(box.viewRange()), before)
    panel.reset_zoom_button.click()
    assert np.allclose(np.array(box.viewRange()), before, atol=0.05 * np.ptp(before))


def test_tsne_runs_in_the_projection_process_not_in_the_studio(open_window, tiny_workspace, qtbot, monkeypatch):
    """The studio's own ``project_pairs`` is broken here: only a projection in another process succeeds."""
    def not_here(*args, **kwargs):
        raise AssertionError("t-SNE ran in the studio process")

    monkeypatch.setattr(core_client, "project_pairs", not_here)
    window = open_window(tiny_workspace)
    panel, (result,) = _computed(window, qtbot, projection="tsne", split="train")
    assert result.projection == "tsne" and result.image_xy.shape == (len(result.pids), 2)
    assert np.isfinite(result.image_xy).all() and np.isfinite(result.text_xy).all()
    assert panel.banner.message == "" and len(panel.plots.plots) == 1
