"""The Study panel: study.json (``scing study``) as a rows table with intervals and a forest plot of the
paired ΔAP against the reference row; its state is tested without Qt, its widgets on hand-written studies."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app.panels.study_panel import NO_STUDIES, StudyPanel
from app.state.study import StudyView, format_interval, format_sign_test


def _stat(mean, lo, hi, values):
    return {"mean": mean, "lo": lo, "hi": hi, "sd": 0.01, "n": len(values), "values": values}


def _pair(a, b, kind, test_set, mean, lo, hi, per_seed, wins, losses, ties=0, p=1.0):
    return {"a": a, "b": b, "kind": kind, "test_set": test_set, "seeds": [0, 1, 2],
            "delta_ap": {"mean": mean, "lo": lo, "hi": hi, "n_seeds": len(per_seed), "n_queries": 32,
                         "per_seed": per_seed, "resamples": 2000},
            "delta_map": {"mean": mean, "lo": lo, "hi": hi, "values": per_seed},
            "sign": {"wins": wins, "losses": losses, "ties": ties, "p": p}}


STUDY = {
    "version": 1,
    "plan": {"name": "abl", "title": "Table 3 ablation", "reference": "clipreid", "seeds": [0, 1, 2], "rows": []},
    "test_sets": ["synthped", "occluded"],
    "reference": "clipreid",
    "rows": [
        {"name": "clipreid", "title": "CLIP-ReID", "preset": "synthped/clipreid/quick",
         "runs": {"0": "runs/clipreid-s0", "1": "runs/clipreid-s1", "2": "runs/clipreid-s2"},
         "seeds": [0, 1, 2], "missing": [],
         "metrics": {"synthped": {"mAP": _stat(0.1164, 0.0306, 0.2023, [0.1260, 0.0781, 0.1452]),
                                  "R1": _stat(0.0521, -0.0664, 0.1707, [0.0625, 0.0, 0.09375])},
                     "occluded": {"mAP": _stat(0.05, 0.04, 0.06, [0.05, 0.04, 0.06]),
                                  "R1": _stat(0.02, 0.01, 0.03, [0.02, 0.01, 0.03])}}},
        {"name": "cocoop", "title": "CoCoOp", "preset": "synthped/cocoop/quick",
         "runs": {"0": "runs/cocoop-s0", "1": "runs/cocoop-s1", "2": "runs/cocoop-s2"},
         "seeds": [0, 1, 2], "missing": [],
         "metrics": {"synthped": {"mAP": _stat(0.1300, 0.1000, 0.1600, [0.13, 0.10, 0.16]),
                                  "R1": _stat(0.0800, 0.0400, 0.1200, [0.08, 0.04, 0.12])}}},
        {"name": "scing", "title": "SCING", "preset": "synthped/scing/quick",
         "runs": {"1": "runs/scing-s1"}, "seeds": [1], "missing": [0, 2],   # one seed: no interval
         "metrics": {"synthped": {"mAP": _stat(0.1010, None, None, [0.1010]),
                                  "R1": _stat(0.0900, None, None, [0.09])}}},
    ],
    "pairs": [
        _pair("cocoop", "clipreid", "reference", "synthped", 0.0136, -0.0100, 0.0372, [0.004, 0.022, 0.015], 2, 1),
        _pair("scing", "clipreid", "reference", "synthped", -0.0154, None, None, [-0.0154], 0, 1, p=1.0),
        _pair("scing", "cocoop", "step", "synthped", -0.029, -0.05, -0.01, [-0.029], 0, 1),
        _pair("cocoop", "clipreid", "reference", "occluded", 0.02, 0.01, 0.03, [0.02, 0.02, 0.02], 3, 0, p=0.25),
    ],
}


# -- state (no Qt) -----------------------------------------------------------------------------------------
def test_rows_table_gives_mean_and_interval_in_points_and_finished_of_planned_seeds(tmp_path):
    rows = StudyView(tmp_path, STUDY).table_rows("synthped")
    assert [row.title for row in rows] == ["CLIP-ReID", "CoCoOp", "SCING"]
    assert [row.is_reference for row in rows] == [True, False, False]
    reference = rows[0]
    assert (reference.mAP, reference.R1) == ("11.6 [3.1, 20.2]", "5.2 [-6.6, 17.1]")
    assert reference.seeds == "3/3" and reference.per_seed_mAP == "12.6 · 7.8 · 14.5"
    assert reference.per_seed_tooltip == "s0: 12.6, s1: 7.8, s2: 14.5"
    scing = rows[2]
    assert (scing.mAP, scing.R1) == ("10.1 (1 seed)", "9.0 (1 seed)")   # null interval: the mean alone
    assert scing.seeds == "1/3" and scing.missing == (0, 2)
    occluded = StudyView(tmp_path, STUDY).table_rows("occluded")
    assert occluded[0].mAP == "5.0 [4.0, 6.0]" and occluded[1].mAP == "—" and occluded[1].per_seed_mAP == "—"


def test_interval_and_sign_test_texts_cover_missing_values():
    assert format_interval(None) == format_interval({"mean": None}) == "—"
    assert format_interval({"mean": 0.25, "lo": None, "hi": 0.3, "n": 4}) == "25.0 (no CI)"
    assert format_sign_test({"wins": 3, "losses": 1, "ties": 1, "p": 0.625}) == "3/1 (1 tied), p=0.625"
    assert format_sign_test(None) == "no sign test"


def test_forest_entries_are_the_reference_pairs_of_the_test_set_in_points(tmp_path):
    view = StudyView(tmp_path, STUDY)
    entries = view.forest_entries("synthped")
    assert [entry.label for entry in entries] == ["CoCoOp − CLIP-ReID", "SCING − CLIP-ReID"]   # no 'step' pair
    cocoop, scing = entries
    assert (cocoop.mean, cocoop.lo, cocoop.hi) == pytest.approx((1.36, -1.0, 3.72))
    assert cocoop.per_seed == pytest.approx((0.4, 2.2, 1.5)) and cocoop.sign_text == "2/1, p=1"
    assert scing.mean == pytest.approx(-1.54) and scing.lo is None and scing.hi is None
    assert [entry.label for entry in view.forest_entries("occluded")] == ["CoCoOp − CLIP-ReID"]
    assert view.forest_axis_label() == "ΔAP vs CLIP-ReID (AP points)"
    summary = view.summary("synthped")
    assert summary.startswith("Table 3 ablation · seeds 0, 1, 2 · reference CLIP-ReID")
    assert "CoCoOp − CLIP-ReID 2/1, p=1" in summary and "SCING − CLIP-ReID 0/1, p=1" in summary


def test_run_dir_joins_the_study_folder_and_the_rows_run_of_its_first_finished_seed(tmp_path):
    view = StudyView(tmp_path / "abl", STUDY)
    assert view.run_dir("clipreid") == tmp_path / "abl" / "runs" / "clipreid-s0"
    assert view.run_dir("clipreid", seed=2) == tmp_path / "abl" / "runs" / "clipreid-s2"
    assert view.run_dir("scing") == tmp_path / "abl" / "runs" / "scing-s1"   # seed 0 did not finish
    unfinished = copy.deepcopy(STUDY)
    unfinished["rows"][2].update(seeds=[], runs={})
    assert StudyView(tmp_path, unfinished).run_dir("scing") is None and view.run_dir("nope") is None


# -- the panel -------------------------------------------------------------------------------------------
def _write_study(workspace: Path, name: str = "abl", data=STUDY) -> Path:
    folder = workspace / "studies" / name
    folder.mkdir(parents=True)
    text = data if isinstance(data, str) else json.dumps(data)
    (folder / "study.json").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def panel(qtbot):
    widget = StudyPanel()
    qtbot.addWidget(widget)
    widget.resize(1200, 800)
    widget.show()
    yield widget
    widget.workers.wait(10000)


def _show(panel, qtbot, workspace):
    with qtbot.waitSignal(panel.shown, timeout=10000):
        panel.set_workspace(workspace)


def _cell(panel, row, column):
    return panel.table.item(row, column).text()


def test_table_shows_every_rows_interval_and_the_forest_one_line_per_non_reference_row(panel, qtbot, tmp_path):
    _write_study(tmp_path)
    _show(panel, qtbot, tmp_path)
    assert panel.pages.currentIndex() == 0 and panel.table.rowCount() == 3
    assert [_cell(panel, r, 0) for r in range(3)] == ["CLIP-ReID (reference)", "CoCoOp", "SCING"]
    assert [_cell(panel, r, 2) for r in range(3)] == ["11.6 [3.1, 20.2]", "13.0 [10.0, 16.0]", "10.1 (1 seed)"]
    assert _cell(panel, 2, 4) == "1/3 (missing 0, 2)"
    forest = panel.forest
    assert forest.row_labels() == ["CoCoOp − CLIP-ReID", "SCING − CLIP-ReID"]
    assert list(forest.bars) == ["CoCoOp − CLIP-ReID"]                     # SCING has no interval to draw
    x, _ = forest.bars["CoCoOp − CLIP-ReID"].getData()
    assert list(x) == pytest.approx([-1.0, 3.72])
    assert sorted(forest.mean_points.data["x"]) == pytest.approx([-1.54, 1.36])
    assert len(forest.seed_points.data) == 4                                # 3 CoCoOp seeds + 1 SCING seed
    assert "ΔAP vs CLIP-ReID (AP points)" in forest.getPlotItem().getAxis("bottom").labelText
    assert "Table 3 ablation" in panel.summary.text() and "p=1" in panel.summary.text()


def test_choosing_another_test_set_redraws_table_and_forest(panel, qtbot, tmp_path):
    _write_study(tmp_path)
    _show(panel, qtbot, tmp_path)
    with qtbot.waitSignal(panel.shown, timeout=5000):
        panel.test_set_combo.setCurrentIndex(panel.test_set_combo.findText("occluded"))
    assert _cell(panel, 0, 2) == "5.0 [4.0, 6.0]" and _cell(panel, 1, 2) == "—"
    assert panel.forest.row_labels() == ["CoCoOp − CLIP-ReID"]


def test_double_clicking_a_row_or_open_runs_emits_its_first_finished_run(panel, qtbot, tmp_path):
    folder = _write_study(tmp_path)
    _show(panel, qtbot, tmp_path)
    table = panel.table
    rect = table.visualItemRect(table.item(2, 0))
    with qtbot.waitSignal(panel.openRun, timeout=5000) as opened:   # a real double click: press, release, twice
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert opened.args == [folder / "runs" / "scing-s1"]
    assert table.selected_row_name() == "scing" and panel.open_button.isEnabled()
    table.selectRow(0)
    assert panel.open_button.isEnabled()
    with qtbot.waitSignal(panel.openRun, timeout=5000) as opened:
        panel.open_button.click()
    assert opened.args == [folder / "runs" / "clipreid-s0"]


def test_a_broken_study_json_shows_its_error_in_place_of_the_data(panel, qtbot, tmp_path):
    _write_study(tmp_path / "good")
    _show(panel, qtbot, tmp_path / "good")
    _write_study(tmp_path / "bad", name="broken", data="{ not json")
    with qtbot.waitSignal(panel.errorOccurred, timeout=10000) as error:
        panel.set_workspace(tmp_path / "bad")
    assert "broken" in error.args[0] and "study.json" in error.args[0]
    assert panel.pages.currentWidget() is panel.message and panel.message.text() == error.args[0]
    assert panel.table.rowCount() == 0 and panel.forest.row_labels() == [] and panel.forest.bars == {}
    assert panel.test_set_combo.count() == 0 and not panel.open_button.isEnabled()


def test_a_workspace_without_studies_clears_table_and_plot(panel, qtbot, tmp_path):
    _write_study(tmp_path / "with")
    _show(panel, qtbot, tmp_path / "with")
    assert panel.table.rowCount() == 3
    (tmp_path / "without").mkdir()
    panel.set_workspace(tmp_path / "without")
    assert panel.study_combo.count() == 0 and not panel.has_studies
    assert panel.table.rowCount() == 0 and panel.forest.row_labels() == [] and panel.forest.mean_points is None
    assert panel.pages.currentWidget() is panel.message and panel.message.text() == NO_STUDIES


def test_a_load_overtaken_by_another_workspace_is_dropped(panel, qtbot, tmp_path):
    _write_study(tmp_path / "with")
    (tmp_path / "without").mkdir()
    panel.set_workspace(tmp_path / "with")        # its worker is still reading when the workspace changes
    panel.set_workspace(tmp_path / "without")
    qtbot.waitUntil(lambda: not panel.workers.busy, timeout=10000)
    assert panel.state.view is None and panel.table.rowCount() == 0 and panel.message.text() == NO_STUDIES


# -- in the window -----------------------------------------------------------------------------------------
def test_opening_a_study_row_opens_its_study_with_that_run_in_the_training_tab(open_window, tiny_runs, qtbot,
                                                                              tmp_path):
    study = copy.deepcopy(STUDY)
    study["rows"] = study["rows"][:1] + study["rows"][2:]   # CLIP-ReID and SCING, one real run each
    study["rows"][0].update(seeds=[0], runs={"0": "runs/clipreid-s0"})
    folder = _write_study(tmp_path, data=study)
    for method, seed in (("clipreid", 0), ("scing", 1)):
        shutil.copytree(tiny_runs[method], folder / "runs" / f"{method}-s{seed}")
    window = open_window(tmp_path)
    assert window.tabs.tabText(window.tabs.indexOf(window.study)) == "Study"
    assert window.tabs.indexOf(window.study) == window.tabs.indexOf(window.gap) + 1
    qtbot.waitUntil(lambda: window.study.table.rowCount() == 2, timeout=10000)
    assert "study" in [step[0] for step in window.screenshot_steps()]
    scans = window.workspace.scans_done
    window.study.open_run_of("scing")
    qtbot.waitUntil(lambda: window.workspace.scans_done > scans, timeout=20000)
    assert window.workspace.path == folder.resolve() and window.tabs.currentWidget() is window.training
    assert window.training.runs.selected == (folder / "runs" / "scing-s1").resolve()
    qtbot.waitUntil(lambda: window.study.table.rowCount() == 2, timeout=10000)   # the study folder is its own study


def test_the_study_view_follows_its_state_without_a_redraw_call(panel, tmp_path):
    folder = tmp_path / "studies" / "abl"
    state = panel.state
    ticket, _ = state.set_workspace(tmp_path, [folder])
    assert panel.study_combo.count() == 1 and panel.message.text() == "loading abl…"
    state.show_loaded(ticket, StudyView(folder, STUDY))
    assert panel.pages.currentIndex() == 0 and panel.table.rowCount() == 3 and not panel.open_button.isEnabled()
    assert [panel.test_set_combo.itemText(i) for i in range(2)] == ["synthped", "occluded"]
    state.set_test_set("occluded")
    assert panel.test_set_combo.currentText() == "occluded" and _cell(panel, 0, 2) == "5.0 [4.0, 6.0]"
    state.select_row("cocoop")
    assert panel.open_button.isEnabled()
    state.show_failure(ticket, "study.json is not JSON")
    assert panel.pages.currentWidget() is panel.message and panel.message.text() == "study.json is not JSON"
    assert panel.table.rowCount() == 0 and panel.test_set_combo.count() == 0 and not panel.open_button.isEnabled()
    state.set_workspace(tmp_path / "none", [])
    assert panel.study_combo.count() == 0 and panel.message.text() == NO_STUDIES
