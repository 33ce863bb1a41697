"""Issue 20 speed goal (no GUI stall over 200 ms on a busy CPU): the Modality-gap result refills plots built
beforehand instead of building three pyqtgraph plots at once when it arrives, and Retrieval finds the runs
it can compare with in its eval-loading worker, not on the GUI thread."""

from __future__ import annotations

import threading

from app.services import core_client


def _compute(panel, qtbot):
    with qtbot.waitSignal(panel.computed, timeout=180000):
        assert panel.compute()
    return list(panel.plots.plots)


def test_a_new_gap_result_refills_the_plots_shown_instead_of_building_new_ones(open_window, tiny_workspace, qtbot):
    window = open_window(tiny_workspace)
    panel = window.gap
    window.tabs.setCurrentWidget(panel)
    panel.ids.setValue(4)
    first = _compute(panel, qtbot)
    panel.ids.setValue(5)   # other inputs: another result, drawn in the same plot widgets
    second = _compute(panel, qtbot)
    assert len(second) == 3 and all(a is b for a, b in zip(first, second))
    scatter = panel.plots.scatters[0]["image"]
    assert len(scatter.data) == len(panel.plots.views[0].image_xy)   # the points are the new view's
    panel.plots.show_message("nothing to show")
    assert panel.plots.plots == [] and not any(plot.isVisible() for plot in first)


def test_gap_plots_are_built_one_per_event_loop_turn_before_the_result_arrives(qtbot):
    from app.widgets.gap_plots import GapPlotsWidget

    plots = GapPlotsWidget()
    qtbot.addWidget(plots)
    plots.prepare(3)
    assert len(plots._built) == 1   # one now, the others on the next turns: no turn builds several
    qtbot.waitUntil(lambda: len(plots._built) == 3, timeout=60000)
    assert plots.plots == [] and not any(built.plot.isVisible() for built in plots._built)


def test_retrieval_lists_the_runs_to_compare_with_without_scanning_them_on_the_gui_thread(open_window, tiny_workspace,
                                                                                     qtbot, monkeypatch):
    scans_on_gui_thread = []
    scan = core_client.eval_folders

    def spy(run_dir):
        if threading.current_thread() is threading.main_thread() and delivering:
            scans_on_gui_thread.append(run_dir)
        return scan(run_dir)

    delivering = []
    monkeypatch.setattr(core_client, "eval_folders", spy)
    window = open_window(tiny_workspace)
    panel = window.retrieval
    loaded = panel._eval_loaded

    def eval_loaded(*args):
        delivering.append(True)
        try:
            loaded(*args)
        finally:
            delivering.clear()

    monkeypatch.setattr(panel, "_eval_loaded", eval_loaded)
    window.tabs.setCurrentWidget(panel)
    for run in list(panel.run_paths):
        panel.select_run(run)
        qtbot.waitUntil(lambda run=run: panel.state is not None and panel.shown_dataset and not panel.workers.busy
                        and panel.current_run() == run, timeout=60000)
        assert panel.compare_combo.count() == len(panel.run_paths)   # "—" plus every other run evaluated on it
    assert scans_on_gui_thread == []
