"""What keeps the GUI thread's work short (benchmarks/bench_studio.py measures the stalls; no timing here):
a scan reaches the panels one per event-loop turn, a small event log is drawn without a loading frame,
and the Training plots reuse their items from one run to the next."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from app.services.workspace import WorkspaceService
from tests.support import copy_run_record
from app.state.workspace import describe_workspace




@pytest.fixture
def two_runs(tiny_runs, tmp_path) -> Path:
    for name in ("scing", "clipreid"):
        copy_run_record(Path(tiny_runs["scing"]), tmp_path / "runs" / name)   # the same line names, other runs
    return tmp_path


def test_a_scan_reaches_each_subscriber_on_its_own_event_loop_turn(tmp_path, qtbot):
    service = WorkspaceService()
    calls = []
    service.deliver_in_turns([lambda path, rows, n=n: calls.append((n, path)) for n in range(3)])
    service.state.set_scan(describe_workspace(tmp_path, 0, False), [])
    assert calls == [(0, tmp_path)] and service.delivering and service.scans_done == 0
    qtbot.waitUntil(lambda: service.scans_done == 1, timeout=5000)
    assert calls == [(0, tmp_path), (1, tmp_path), (2, tmp_path)] and not service.delivering


def test_a_newer_scan_restarts_the_delivery_and_the_older_one_stops(tmp_path, qtbot):
    service = WorkspaceService()
    calls = []
    service.deliver_in_turns([lambda path, rows, n=n: calls.append((n, path.name)) for n in range(3)])
    old, new = tmp_path / "old", tmp_path / "new"
    service.state.set_scan(describe_workspace(old, 0, False), [])
    service.state.set_scan(describe_workspace(new, 0, False), [])   # before the old one's second turn
    qtbot.waitUntil(lambda: service.scans_done >= 1, timeout=5000)
    for _ in range(5):
        QApplication.processEvents()
    assert calls == [(0, "old"), (0, "new"), (1, "new"), (2, "new")] and service.scans_done == 1


def test_every_panel_has_the_workspace_when_the_scan_counts_as_done(open_window, two_runs):
    window = open_window(two_runs)   # waits for scans_done
    assert not window.workspace.delivering
    assert window.training.workspace == two_runs
    assert [r.path.name for r in window.training.runs.rows] == ["clipreid", "scing"]
    assert window.stack.currentWidget() is window.tabs   # the window's own slot, the last one, ran too


def test_a_small_event_log_is_drawn_at_selection_with_no_loading_frame(open_window, two_runs, qtbot):
    panel = open_window(two_runs).training
    run = two_runs / "runs" / "clipreid"
    panel.select_run(run)
    assert not panel.sources.loading(run) and not panel.workers.busy   # read at once, no worker
    assert panel.curves[run].losses(2) and panel.plots.drawn_lines("loss2")
    assert all(item.isVisible() and len(item.xData) for item in panel.plots.drawn_lines("loss2").values())


def test_the_next_run_reuses_the_plot_items_of_lines_with_the_same_names(open_window, two_runs, qtbot):
    panel = open_window(two_runs).training
    runs = two_runs / "runs"
    panel.select_run(runs / "scing")
    qtbot.waitUntil(lambda: bool(panel.plots.drawn_lines("loss2")), timeout=20000)
    before = dict(panel.plots.drawn_lines("loss2"))
    legend = [label.text for _, label in panel.plots.loss_plots[2].getPlotItem().legend.items]
    panel.select_run(runs / "clipreid")
    after = panel.plots.drawn_lines("loss2")
    assert after.keys() == before.keys() and all(after[key] is before[key] for key in before)
    assert [label.text for _, label in panel.plots.loss_plots[2].getPlotItem().legend.items] == legend


def test_lines_a_run_lacks_are_removed_and_the_legend_keeps_the_drawing_order(open_window, two_runs, qtbot):
    from app.state.training_overlay import PlotLine

    plots = open_window(two_runs).training.plots
    line = lambda name, y: PlotLine("loss2", ("loss", 2, name), (0.0, 1.0), (y, y), 0, name, 1.4)  # noqa: E731
    plots.show_lines([line("total", 1.0), line("id", 2.0), line("tri", 3.0)])
    kept = plots.drawn_lines("loss2")[("loss", 2, "total")]
    plots.show_lines([line("total", 1.5), line("tri", 3.0)])   # 'id' gone: 'tri' is drawn again after 'total'
    drawn = plots.drawn_lines("loss2")
    assert set(drawn) == {("loss", 2, "total"), ("loss", 2, "tri")} and drawn[("loss", 2, "total")] is kept
    assert list(kept.yData) == [1.5, 1.5]
    legend = plots.loss_plots[2].getPlotItem().legend
    assert [label.text for _, label in legend.items] == ["total", "tri"]
    plots.hide_lines()   # nothing of this run stays on screen, and nothing is rebuilt for the next
    assert all(not item.isVisible() and (item.xData is None or not len(item.xData)) for item in drawn.values())
    assert not legend.isVisible()
