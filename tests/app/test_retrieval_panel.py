"""Retrieval browser on a tiny run's eval folder: query count, worst-first order, failure filter and
the top-k strip colours (green = same id, red = different id, grey = junk)."""

from __future__ import annotations

import math

import numpy as np
from scing_core import api

from app.widgets.image_strip import KIND_COLORS


def _loaded(window, qtbot):
    window.tabs.setCurrentWidget(window.retrieval)
    qtbot.waitUntil(lambda: window.retrieval.state is not None and window.retrieval.state.selected is not None,
                    timeout=20000)
    return window.retrieval


def test_panel_lists_every_query_worst_ap_first(open_window, tiny_workspace, qtbot):
    panel = _loaded(open_window(tiny_workspace), qtbot)
    artifacts = api.load_eval(panel.current_run(), panel.eval_combo.currentText())
    assert panel.model.rowCount() == len(artifacts.query.paths)
    aps = [row.ap for row in panel.model.rows if not math.isnan(row.ap)]
    assert aps == sorted(aps)
    assert panel.state.selected == panel.model.rows[0].index        # the worst query is shown first


def test_strip_border_colours_follow_pid_equality_and_junk_flags(open_window, tiny_workspace, qtbot):
    panel = _loaded(open_window(tiny_workspace), qtbot)
    artifacts = api.load_eval(panel.current_run(), panel.eval_combo.currentText())
    checked = 0
    for row in panel.model.rows[:5]:
        panel.table.selectRow(panel.model.rows.index(row))
        k = panel.k_spin.value()
        indices = artifacts.topk_indices[row.index][:k]
        junk = artifacts.topk_junk[row.index][:k]
        same = artifacts.gallery.pids[indices] == artifacts.query.pids[row.index]
        expected = [KIND_COLORS["junk"] if j else KIND_COLORS["same"] if s else KIND_COLORS["different"]
                    for j, s in zip(junk, same)]
        assert panel.strip.border_colors() == expected
        checked += len(expected)
    assert checked > 0


def test_failure_filter_shows_only_queries_missed_at_rank_one(open_window, tiny_workspace, qtbot):
    panel = _loaded(open_window(tiny_workspace), qtbot)
    panel.failures_only.setChecked(True)
    first_hits = [row.first_hit for row in panel.model.rows]
    assert all(hit > 0 for hit in first_hits)
    assert len(first_hits) == int(np.sum(panel.state.first_hit > 0))
    panel.failures_only.setChecked(False)
    assert panel.model.rowCount() == panel.state.num_queries


def test_send_to_saliency_moves_the_query_and_its_top_three(open_window, tiny_workspace, qtbot):
    window = open_window(tiny_workspace)
    panel = _loaded(window, qtbot)
    panel.send_button.click()
    row = panel.state.selected_row
    assert window.tabs.currentWidget() is window.saliency
    paths = window.saliency.image_paths()
    assert paths[0] == row.path and len(paths) == 4
    assert window.saliency.pair_path.text() == row.path


def test_a_workspace_rescan_keeps_the_loaded_eval_and_the_selected_query(open_window, tiny_workspace, qtbot):
    window = open_window(tiny_workspace)
    panel = _loaded(window, qtbot)
    panel.table.selectRow(3)
    state, selected = panel.state, panel.state.selected
    scans = window.workspace.scans_done
    window.workspace.refresh()
    qtbot.waitUntil(lambda: window.workspace.scans_done > scans, timeout=20000)
    assert panel.state is state and panel.state.selected == selected


def test_comparison_with_another_run_shows_per_query_ap_differences(open_window, tiny_workspace, qtbot):
    from app.widgets.query_table import DELTA_COLUMN

    panel = _loaded(open_window(tiny_workspace), qtbot)
    dataset = panel.eval_combo.currentText()
    assert panel.compare_combo.count() == len(panel.run_paths)   # "—" plus every other run evaluated on it
    other = next(path for path in panel.run_paths if path != panel.current_run())
    assert panel.compare_with(other)
    qtbot.waitUntil(lambda: panel.state.reference_name == other.name, timeout=20000)
    mine, theirs = api.load_eval(panel.current_run(), dataset), api.load_eval(other, dataset)
    theirs_ap = dict(zip(theirs.query.paths, theirs.ap))
    for r, row in enumerate(panel.model.rows[:10]):
        expected = 100 * (mine.ap[row.index] - theirs_ap[mine.query.paths[row.index]])
        text = panel.model.data(panel.model.index(r, DELTA_COLUMN))
        assert text == ("—" if math.isnan(expected) else f"{expected:+.1f}")
    assert f"vs {other.name}: better on" in panel.summary.text()
    panel._header_clicked(DELTA_COLUMN)   # where this run loses most first
    deltas = [panel.state.delta(row.index) for row in panel.model.rows if not math.isnan(panel.state.delta(row.index))]
    assert deltas == sorted(deltas)
    panel.compare_combo.setCurrentIndex(0)   # "—": no comparison
    assert panel.state.reference_name is None and "vs " not in panel.summary.text()


def test_export_ranking_writes_the_selected_query_figure(open_window, tiny_workspace, qtbot, tmp_path):
    panel = _loaded(open_window(tiny_workspace), qtbot)
    assert panel.export_button.isEnabled()
    panel.k_spin.setValue(5)
    messages = []
    panel.statusMessage.connect(messages.append)
    panel.export_ranking(tmp_path / "q.png")
    qtbot.waitUntil(lambda: not panel.workers.busy, timeout=60000)
    assert (tmp_path / "q.png").is_file() and (tmp_path / "q.pdf").is_file()
    qtbot.waitUntil(lambda: any("ranking figure written" in m for m in messages), timeout=5000)
