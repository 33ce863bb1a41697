"""Saliency and modality-gap panels compute on the tiny runs through their workers and show results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scing_core import api


def _query_images(tiny_synthped, n):
    return [str(s.path) for s in api.load_dataset("synthped", tiny_synthped).query[:n]]


def test_saliency_grid_has_one_cell_per_image_and_run_with_person_share(open_window, tiny_workspace,
                                                                         tiny_synthped, qtbot, tmp_path):
    window = open_window(tiny_workspace)
    panel = window.saliency
    window.tabs.setCurrentWidget(panel)
    images = _query_images(tiny_synthped, 2)
    panel.set_images(images)
    assert len(panel.runs.checked_paths()) == 3
    with qtbot.waitSignal(panel.computed, timeout=120000) as shown:
        assert panel.compute()
    grid = shown.args[0]
    assert grid.image_paths == images and sorted(grid.run_names) == ["clipreid", "cocoop", "scing"]
    assert len(panel.grid_widget.cell_labels) == 2 * 3
    for (row, col), label in panel.grid_widget.cell_labels.items():
        result = grid.cell(row, col)
        assert result.cam.shape == result.image.shape[:2] and np.isfinite(result.cam).all()
        assert result.person_share is not None                                      # SynthPed has masks
        if np.isnan(result.person_share):                                           # an all-zero map
            assert "zero map" in label.caption
        else:
            assert 0.0 <= result.person_share <= 1.0
            assert f"person share {result.person_share:.2f}" in label.caption
    panel.export_figure(tmp_path / "grid.png")
    qtbot.waitUntil(lambda: not panel.workers.busy, timeout=60000)
    assert (tmp_path / "grid.png").is_file() and (tmp_path / "grid.pdf").is_file()


def test_saliency_pair_target_and_errors_from_the_core_reach_the_banner(open_window, tiny_workspace,
                                                                       tiny_synthped, qtbot):
    window = open_window(tiny_workspace)
    panel = window.saliency
    images = _query_images(tiny_synthped, 2)
    panel.set_images(images[:1])
    panel.pair_path.setText(images[1])
    panel.target.setCurrentIndex(panel.target.findData("image"))
    panel.runs.set_checked([tiny_workspace / "runs" / "scing"])
    assert panel.request().target == f"image:{images[1]}"
    with qtbot.waitSignal(panel.computed, timeout=120000) as shown:
        panel.compute()
    assert shown.args[0].run_names == ["scing"]
    panel.method.clear()
    panel.method.addItem("no-such-cam")
    with qtbot.waitSignal(panel.errorOccurred, timeout=60000) as error:
        panel.compute()
    assert "no-such-cam" in error.args[0] and panel.banner.message == error.args[0]
    assert panel.compute_button.isEnabled()


def test_gap_panel_plots_one_scatter_per_run_with_the_metrics_table(open_window, tiny_workspace, qtbot, tmp_path):
    window = open_window(tiny_workspace)
    panel = window.gap
    window.tabs.setCurrentWidget(panel)
    panel.ids.setValue(6)
    assert panel.projection.currentData() == "pca"
    with qtbot.waitSignal(panel.computed, timeout=120000) as shown:
        assert panel.compute()
    results = shown.args[0]
    assert sorted(Path(r.run).name for r in results) == ["clipreid", "cocoop", "scing"]
    assert len(panel.plots.plots) == 3 and panel.table.rowCount() == 3
    for r, result in enumerate(results):
        assert result.image_xy.shape == result.text_xy.shape == (len(result.pids), 2)
        assert panel.table.item(r, 0).text() == Path(result.run).name
        value = float(panel.table.item(r, 4).text())
        assert value == pytest.approx(result.metrics["mean_paired_cosine_distance"], abs=5e-4)
    scatter_points = [sum(len(item.data) for item in plot.getPlotItem().items if hasattr(item, "points"))
                      for plot in panel.plots.plots]
    assert scatter_points == [2 * len(result.pids) for result in results]   # image + text points per run
    panel.export_figure(tmp_path / "gap.png")
    qtbot.waitUntil(lambda: not panel.workers.busy, timeout=60000)
    assert (tmp_path / "gap.png").is_file() and (tmp_path / "gap.pdf").is_file()


def test_gap_request_problems_are_shown_not_computed(open_window, tiny_workspace):
    window = open_window(tiny_workspace)
    window.gap.runs.set_checked([])
    assert window.gap.compute() is False
    assert "tick at least one run" in window.gap.banner.message


def test_umap_warm_up_hint_shows_while_the_background_compile_runs(open_window, tiny_workspace, qtbot):
    import threading

    window = open_window(tiny_workspace)
    panel = window.gap
    release = threading.Event()
    thread = threading.Thread(target=release.wait, daemon=True)   # stands in for api.warm_up_umap's thread
    thread.start()
    panel.projection.setCurrentIndex(panel.projection.findData("umap"))
    panel.watch_umap_warm_up(thread)
    assert "compiling in the background" in panel.umap_status.text()
    release.set()
    qtbot.waitUntil(lambda: panel.umap_status.text() == "UMAP ready.", timeout=5000)
