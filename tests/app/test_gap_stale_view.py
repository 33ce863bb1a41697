"""Modality-gap tab: a new workspace clears what the previous one showed, and a failed computation shows
its error in place of the plots (never next to an earlier result)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from scing_core import api


@pytest.fixture
def other_workspace(tiny_workspace, tmp_path) -> Path:
    """A second workspace holding a copy of one tiny run."""
    shutil.copytree(tiny_workspace / "runs" / "clipreid", tmp_path / "other" / "runs" / "clipreid")
    return tmp_path / "other"


def _compute(panel, qtbot):
    panel.ids.setValue(4)
    with qtbot.waitSignal(panel.computed, timeout=120000):
        assert panel.compute()
    assert panel.plots.plots and panel.table.rowCount() == 3


def _open(window, workspace, qtbot):
    scans = window.workspace.scans_done
    window.open_workspace(workspace)
    qtbot.waitUntil(lambda: window.workspace.scans_done > scans, timeout=20000)


def test_switching_workspace_clears_gap_plots_table_and_error_banner(open_window, tiny_workspace, other_workspace,
                                                                    qtbot):
    window = open_window(tiny_workspace)
    panel = window.gap
    window.tabs.setCurrentWidget(panel)
    _compute(panel, qtbot)
    panel.runs.set_checked([])
    assert panel.compute() is False and panel.banner.message   # an error of the first workspace
    _open(window, other_workspace, qtbot)
    assert [Path(p).name for p in panel.runs.checked_paths()] == ["clipreid"]
    assert panel.plots.plots == [] and panel.table.rowCount() == 0
    assert panel.banner.message == "" and not panel.export_button.isEnabled()


def test_gap_results_of_the_previous_workspace_are_dropped_when_they_arrive(open_window, tiny_workspace,
                                                                           other_workspace, qtbot):
    window = open_window(tiny_workspace)
    panel = window.gap
    panel.ids.setValue(4)
    assert panel.compute()
    _open(window, other_workspace, qtbot)
    qtbot.waitUntil(lambda: not panel.workers.busy, timeout=120000)
    assert panel.plots.plots == [] and panel.table.rowCount() == 0 and panel.state.results is None


def test_a_failed_gap_computation_replaces_the_earlier_plots_with_its_error(open_window, tiny_workspace, qtbot,
                                                                          monkeypatch):
    window = open_window(tiny_workspace)
    panel = window.gap
    _compute(panel, qtbot)

    def broken(*args, **kwargs):
        raise RuntimeError("the embeddings could not be read")

    monkeypatch.setattr(api, "collect_gap_embeddings", broken)
    with qtbot.waitSignal(panel.errorOccurred, timeout=60000):
        assert panel.compute()
    assert "could not be read" in panel.banner.message
    assert panel.plots.plots == [] and panel.table.rowCount() == 0
    assert "could not be read" in panel.plots.message and not panel.export_button.isEnabled()


def test_when_every_run_fails_the_error_is_shown_in_place_of_the_plots(open_window, tiny_workspace, qtbot,
                                                                      monkeypatch):
    window = open_window(tiny_workspace)
    panel = window.gap
    _compute(panel, qtbot)

    class RunDirError(Exception):   # named like the core's: one run's problem, reported per run
        pass

    def no_checkpoint(run_dir, **kwargs):
        raise RunDirError(f"run {Path(run_dir).name} has no checkpoint")

    monkeypatch.setattr(api, "collect_gap_embeddings", no_checkpoint)
    with qtbot.waitSignal(panel.errorOccurred, timeout=60000):
        assert panel.compute()
    qtbot.waitUntil(lambda: not panel.workers.busy, timeout=60000)
    assert "has no checkpoint" in panel.banner.message
    assert panel.plots.plots == [] and panel.table.rowCount() == 0 and "has no checkpoint" in panel.plots.message


def test_the_gap_view_follows_its_state_without_a_redraw_call(qtbot, tmp_path):
    from types import SimpleNamespace

    import numpy as np

    from app.panels.gap_panel import GapPanel
    from app.state.gap import HOVER_HINT, INTRO
    from app.state.gap_view import GapView, HoveredPoint
    from app.state.runs import RunRow

    panel = GapPanel()
    qtbot.addWidget(panel)
    state = panel.state
    run = tmp_path / "runs" / "scing"
    state.set_workspace(tmp_path, [RunRow("scing", run, "scing", "synthped", "completed")])
    assert panel.runs.checked_paths() == [run]
    state.set_inputs(ids=7, split="test")
    assert panel.ids.value() == 7 and panel.split.currentData() == "test"
    ticket, _ = state.start()
    assert not panel.compute_button.isEnabled() and panel.progress.text() == "collecting embeddings…"
    xy = np.arange(8, dtype=np.float64).reshape(4, 2)
    view = GapView(str(run), "scing", "prototype", xy, xy + 1, np.array([1, 1, 2, 2]), ["/a.jpg"] * 4)
    result = SimpleNamespace(run=str(run), method="scing", text_kind="prototype", pids=[1, 1, 2, 2],
                             metrics={"mean_paired_cosine_distance": 0.5, "centroid_gap": 0.2, "i2t_r1": 0.5})
    with qtbot.waitSignal(panel.computed, timeout=1000):
        state.finish(ticket, ([view], [result], {}))
    assert len(panel.plots.plots) == 1 and panel.table.rowCount() == 1 and panel.table.item(0, 4).text() == "0.500"
    assert panel.compute_button.isEnabled() and panel.export_button.isEnabled()
    state.set_hovered(HoveredPoint(str(run), "image", 0), " · identity 1")
    assert panel.hover_info.text() == "<b>scing</b> · identity 1"
    ticket, _ = state.start()
    state.fail(ticket, "RuntimeError: boom")
    assert panel.plots.plots == [] and "boom" in panel.plots.message and panel.banner.message == "RuntimeError: boom"
    assert panel.hover_info.text() == HOVER_HINT and not panel.export_button.isEnabled()
    state.set_workspace(tmp_path / "other", [])
    assert panel.plots.message == INTRO and panel.banner.message == "" and panel.runs.count() == 0
    panel.shutdown()
