"""The studio's view-models (app/state) without a display: sorting, filtering, selection, curves."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from app.state.curves import Series, TrainingCurves
from app.state.gap import GapRequest, best_in_column, metric_headers, metric_rows
from app.state.launch import PresetChoices, build_launch_request, parse_overrides, suggest_run_name
from app.state.retrieval import DIFFERENT, JUNK, SAME, RetrievalState, describe_comparison, describe_summary
from app.state.runs import RunListState, RunRow, default_comparison_runs, final_metrics, format_percent
from app.state.saliency import SaliencyGrid, SaliencyRequest
from app.state.workspace import EMPTY, MISSING, MISSING_DEMO, NOT_A_FOLDER, READY, describe_workspace


def test_state_package_imports_no_qt():
    """Every module of app.state, imported in a fresh interpreter, loads no Qt (a new module is covered too)."""
    code = ("import importlib, pkgutil, sys, app.state; "
            "[importlib.import_module(f'app.state.{m.name}') for m in pkgutil.iter_modules(app.state.__path__)]; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "[]"


# -- run list ----------------------------------------------------------------------------------------
def _row(name, status="completed", mAP=None, method="scing"):
    return RunRow(name, Path("/ws/runs") / name, method, "synthped", status, mAP, None)


def test_run_rows_read_final_metrics_of_the_first_split():
    summary = SimpleNamespace(path=Path("/ws/runs/a"), method="scing", dataset="synthped", status="completed",
                              metrics={"method": "scing", "best_mAP": 0.7,
                                       "final": {"holistic": {"mAP": 0.61, "R1": 0.8}, "occluded": {"mAP": 0.4, "R1": 0.5}}})
    row = RunRow.from_summary(summary)
    assert (row.name, row.mAP, row.R1) == ("a", 0.61, 0.8)
    assert "occluded: mAP 40.0  R1 50.0" in row.metrics_tooltip()
    assert row.metrics_split == "holistic"   # the split whose mAP / R1 the table shows
    assert _row("b").metrics_split == "synthped"   # no final metrics yet: the configured dataset
    demo = RunRow.from_summary(SimpleNamespace(**{**vars(summary), "metrics": {"final": {
        "synthped@synthped_occluded": {"mAP": 0.29, "R1": 0.31}, "synthped@synthped": {"mAP": 0.66, "R1": 0.78}}}}))
    assert (demo.metrics_split, demo.mAP) == ("synthped_occluded", 0.29)
    assert final_metrics({}) == {} and format_percent(None) == "—" and format_percent(float("nan")) == "—"


def test_run_rows_say_which_checkpoint_their_numbers_come_from_and_flag_test_set_selection():
    final = {"synthped": {"mAP": 0.5, "R1": 0.6}}
    label = "best test-set mAP during training (optimistic: the test set chose the checkpoint)"
    chosen = RunRow.from_summary(SimpleNamespace(path=Path("/ws/runs/t"), method="scing", dataset="synthped",
                                                 status="completed", metrics={"final": final, "selection": {
                                                     "mode": "test", "checkpoint": "best", "label": label}}))
    assert chosen.test_selected and f"‡ numbers from: {label}" in chosen.metrics_tooltip()
    plain = RunRow.from_summary(SimpleNamespace(**{**vars(chosen), "status": "completed", "metrics": {
        "final": final, "selection": {"mode": "final", "label": "final epoch (as the paper and CLIP-ReID report)"}}}))
    assert not plain.test_selected and "numbers from: final epoch" in plain.metrics_tooltip()
    curves = TrainingCurves()
    curves.add([{"type": "eval", "stage": 2, "epoch": 3, "dataset": "synthped", "mAP": 0.5, "R1": 0.6, "final": True,
                 "selection_label": label}])
    assert curves.selection_label == label


def test_run_list_sorts_by_map_with_missing_metrics_last_in_both_directions():
    state = RunListState()
    state.set_rows([_row("a", mAP=0.2), _row("b", status="running-or-killed"), _row("c", mAP=0.9)])
    state.sort_by("mAP", descending=True)
    assert [r.name for r in state.rows] == ["c", "a", "b"]
    state.sort_by("mAP", descending=False)
    assert [r.name for r in state.rows] == ["a", "c", "b"]
    with pytest.raises(ValueError, match="columns"):
        state.sort_by("loss")


def test_run_selection_survives_a_rescan_and_clears_when_the_run_disappears():
    state = RunListState()
    state.set_rows([_row("a"), _row("b")])
    assert state.select(Path("/ws/runs/b")).name == "b"
    state.set_rows([_row("c"), _row("b"), _row("a")])
    assert state.selected_row.name == "b"
    state.set_rows([_row("a")])
    assert state.selected is None and state.selected_row is None


def test_live_status_overrides_the_persisted_one_until_cleared():
    state = RunListState()
    state.set_rows([_row("a", status="stopped")])
    state.set_live_status("/ws/runs/a", "running")
    assert state.status_of(state.rows[0]) == "running"
    state.set_live_status("/ws/runs/a", None)
    assert state.status_of(state.rows[0]) == "stopped" and state.rows[0].resumable


def test_default_comparison_runs_take_one_completed_run_per_method_in_paper_order():
    rows = [_row("s2", method="scing", status="failed"), _row("s1", method="scing"), _row("c", method="clipreid"),
            _row("k", method="cocoop")]
    assert [p.name for p in default_comparison_runs(rows)] == ["c", "k", "s1"]


# -- training curves -----------------------------------------------------------------------------------
def _step(stage, epoch, step, steps=4, **losses):
    return {"type": "step", "stage": stage, "epoch": epoch, "step": step, "steps": steps, "lr": 0.01,
            "losses": losses or {"total": 1.0}}


def test_curves_place_steps_at_fractional_epochs_per_stage_and_loss():
    curves = TrainingCurves()
    curves.add([{"type": "run_started"}, {"type": "stage_started", "stage": 1, "name": "prompts", "epochs": 2,
                                         "start_epoch": 0},
                _step(1, 0, 1, total=3.0, supcon=2.0), _step(1, 0, 3, total=2.0, supcon=1.5), _step(1, 1, 1, total=1.0)])
    total = curves.losses(1)["total"]
    assert total.x == [0.5, 1.0, 1.5] and total.y == [3.0, 2.0, 1.0]
    assert curves.losses(1)["supcon"].y == [2.0, 1.5]
    assert curves.losses(2) == {} and curves.status == "running"
    assert curves.progress.describe().startswith("stage 1 (prompts) · epoch 2/2 · step 2/4")


def test_curves_fall_back_to_epoch_means_without_step_events_and_skip_non_finite_values():
    curves = TrainingCurves()
    curves.add([{"type": "epoch_end", "stage": 2, "epoch": 0, "epochs": 3, "lr": 0.001, "losses": {"total": 2.0}},
                {"type": "epoch_end", "stage": 2, "epoch": 1, "epochs": 3, "lr": 0.001, "losses": {"total": "nan"}}])
    assert curves.losses(2)["total"].x == [1.0] and curves.stages == [2]


def test_resumed_steps_replace_the_points_they_repeat():
    curves = TrainingCurves()
    curves.add([_step(2, 0, s, total=5.0 - s) for s in range(4)] + [_step(2, 1, 0, total=0.5)])
    curves.add([{"type": "run_started", "resume": True}, _step(2, 0, 2, total=9.0), _step(2, 0, 3, total=8.0)])
    total = curves.losses(2)["total"]
    assert total.x == [0.25, 0.5, 0.75, 1.0] and total.y == [5.0, 4.0, 9.0, 8.0]
    series = Series()
    series.add(1.0, 1.0)
    series.add(1.0, 2.0)
    assert (series.x, series.y) == ([1.0], [2.0])


def test_eval_events_become_percent_curves_and_final_metrics():
    curves = TrainingCurves()
    curves.add([{"type": "eval", "stage": 2, "epoch": 1, "dataset": "synthped", "mAP": 0.25, "R1": 0.5, "best": True},
                {"type": "eval", "stage": 2, "epoch": 3, "dataset": "synthped", "mAP": 0.5, "R1": 0.75, "best": True},
                {"type": "eval", "stage": 2, "epoch": 3, "dataset": "synthped", "mAP": 0.5, "R1": 0.75, "final": True},
                {"type": "error", "message": "boom"},
                {"type": "run_finished", "status": "completed", "metrics": {"synthped": {"mAP": 0.5, "R1": 0.75}}}])
    series = curves.evals["synthped"]
    assert series["mAP"].x == [2.0, 4.0] and series["mAP"].y == [25.0, 50.0] and series["R1"].y == [50.0, 75.0]
    assert curves.final_metrics["synthped"]["mAP"] == 0.5 and curves.best_map["synthped"] == 0.5
    assert curves.status == "completed" and curves.errors == ["boom"]


def test_a_test_set_evaluated_only_at_the_end_gets_its_point_from_the_final_eval():
    curves = TrainingCurves()
    curves.add([{"type": "eval", "stage": 2, "epoch": 19, "dataset": "a@occluded", "mAP": 0.3, "R1": 0.3, "best": True},
                {"type": "eval", "stage": 2, "epoch": 19, "dataset": "a@occluded", "mAP": 0.3, "R1": 0.3, "final": True},
                {"type": "eval", "stage": 2, "epoch": 19, "dataset": "a@holistic", "mAP": 0.6, "R1": 0.7, "final": True}])
    assert curves.evals["a@occluded"]["mAP"].y == [30.0]   # the final eval does not repeat the point
    assert curves.evals["a@holistic"]["mAP"].x == [20.0] and curves.evals["a@holistic"]["R1"].y == [70.0]


def test_progress_fraction_of_stage():
    curves = TrainingCurves()
    curves.add([{"type": "stage_started", "stage": 2, "epochs": 4, "start_epoch": 0}, _step(2, 1, 1, steps=4)])
    assert curves.progress.fraction_of_stage() == pytest.approx(1.5 / 4)


# -- retrieval -----------------------------------------------------------------------------------------
def _retrieval():
    # 4 queries, 5 gallery images. Query 3 has no true match (skipped by the protocol).
    return RetrievalState(
        query_paths=[f"/q/{i}.jpg" for i in range(4)], query_pids=[1, 2, 3, 9], query_camids=[0, 0, 1, 1],
        gallery_paths=[f"/g/{i}.jpg" for i in range(5)], gallery_pids=[1, 2, 3, 1, 2], gallery_camids=[1, 1, 1, 0, 0],
        topk_indices=[[0, 1, 2], [0, 1, 4], [2, 0, 1], [0, 1, 2]],
        topk_distances=[[0.1, 0.2, 0.3], [0.1, 0.2, 0.3], [0.1, 0.2, 0.3], [0.1, 0.2, 0.3]],
        topk_junk=[[False, False, False], [False, False, True], [True, False, False], [False, False, False]],
        ap=[1.0, 0.5, float("nan"), float("nan")], first_hit=[0, 1, -1, -1], metrics={"mAP": 0.75, "R1": 0.5})


def test_queries_sort_worst_ap_first_with_skipped_queries_last():
    state = _retrieval()
    assert [r.index for r in state.visible_rows()] == [1, 0, 2, 3]
    state.set_sort("ap_descending")
    assert [r.index for r in state.visible_rows()] == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="valid"):
        state.set_sort("random")


def test_failure_filter_keeps_queries_whose_first_true_match_is_below_rank_one():
    state = _retrieval()
    state.set_only_failures(True)
    assert [r.index for r in state.visible_rows()] == [1]
    assert state.row(1).is_failure and not state.row(0).is_failure and not state.row(3).evaluated


def test_hits_mark_same_different_and_junk_from_pids_and_the_junk_flags():
    state = _retrieval()
    hits = state.hits(1, k=3)
    assert [(h.rank, h.index, h.kind) for h in hits] == [(1, 0, DIFFERENT), (2, 1, SAME), (3, 4, JUNK)]
    assert [h.kind for h in state.hits(0, k=2)] == [SAME, DIFFERENT]
    assert len(state.hits(0, k=1)) == 1


def test_summary_counts_failures_and_skipped_queries():
    state = _retrieval()
    summary = state.summary()
    assert (summary["num_query"], summary["num_valid"], summary["num_failures"], summary["num_skipped"]) == (4, 2, 1, 2)
    text = describe_summary(summary)
    assert "mAP 75.0" in text and "2 without a true match" in text and "1 rank-1 failures" in text


def test_selection_is_by_query_index():
    state = _retrieval()
    assert state.select(2).path == "/q/2.jpg"
    with pytest.raises(IndexError):
        state.select(7)


# -- saliency --------------------------------------------------------------------------------------------
def test_saliency_request_lists_every_problem(tmp_path):
    image = tmp_path / "a.png"
    image.write_bytes(b"x")
    assert SaliencyRequest((str(image),), (tmp_path,), "gradcam", "prototype").problems() == []
    problems = SaliencyRequest((), (), "", "image:").problems()
    assert len(problems) == 4 and any("at least one image" in p for p in problems)
    assert "pair image not found" in SaliencyRequest((str(image),), (tmp_path,), "gradcam",
                                                     f"image:{tmp_path / 'nope.png'}").problems()[0]


def test_saliency_grid_arranges_images_by_runs_with_a_shared_scale():
    def result(path, peak, share):
        cam = np.zeros((4, 2), dtype=np.float32)
        cam[0, 0] = peak
        return SimpleNamespace(path=path, cam=cam, image=np.zeros((4, 2, 3), np.uint8), person_share=share, note="")

    grid = SaliencyGrid.from_results({"clipreid": [result("a", 1.0, 0.2), result("b", 0.5, None)],
                                      "scing": [result("b", 0.8, 0.6), result("a", 0.9, 0.4)]})
    assert grid.image_paths == ["a", "b"] and grid.run_names == ["clipreid", "scing"]
    assert grid.cell(0, 1).person_share == 0.4 and grid.cell(1, 1).person_share == 0.6
    assert (grid.vmin, grid.vmax) == (0.0, 1.0)
    assert grid.caption(1, 0).startswith("person share n/a") and not grid.has_notes
    assert grid.mean_person_share(1) == pytest.approx(0.5)
    zero = SaliencyGrid.from_results({"r": [result("a", 0.0, float("nan")), result("b", 1.0, 0.3)]})
    assert zero.caption(0, 0) == "person share n/a (zero map)" and zero.mean_person_share(0) == pytest.approx(0.3)


# -- modality gap -----------------------------------------------------------------------------------------
def test_gap_rows_format_metrics_and_find_the_best_run():
    results = [SimpleNamespace(run="a", method="clipreid", text_kind="prototype", pids=[1, 2],
                               metrics={"mean_paired_cosine_distance": 0.8, "centroid_gap": 0.5, "i2t_r1": 0.5}),
               SimpleNamespace(run="b", method="scing", text_kind="conditioned", pids=[1, 2],
                               metrics={"mean_paired_cosine_distance": 0.3, "centroid_gap": 0.7, "i2t_r1": 1.0})]
    assert metric_rows(results)[1] == ["b", "scing", "conditioned", "2", "0.300", "0.700", "100.0%"]
    assert len(metric_headers()) == 7
    assert best_in_column(results, "mean_paired_cosine_distance") == {1}
    assert best_in_column(results, "centroid_gap") == {0} and best_in_column(results, "i2t_r1") == {1}
    results[0].metrics["i2t_r1"] = 1.0
    assert best_in_column(results, "i2t_r1") == {0, 1} and best_in_column(results[:1], "i2t_r1") == set()
    assert GapRequest((), "tsne", 1, "x").problems().__len__() == 3   # t-SNE is a projection now
    assert GapRequest((), "mds", 1, "x").problems().__len__() == 4


# -- new-run form and workspace ------------------------------------------------------------------------------
def test_presets_split_into_datasets_methods_and_variants():
    choices = PresetChoices.from_presets(["market1501/scing", "synthped/clipreid", "synthped/scing",
                                          "DATASET/METHOD/quick", "DATASET/METHOD/rn50"])
    assert choices.datasets == ["market1501", "synthped"] and choices.methods == ["scing", "clipreid"]
    assert choices.variants == ["", "quick", "rn50"]


def test_launch_request_validates_name_overrides_and_existing_runs(tmp_path):
    (tmp_path / "data").mkdir()
    request = build_launch_request(tmp_path, "synthped", "scing", "quick", "run-1", str(tmp_path / "data"),
                                   "stage1.epochs=2 'model.name=a b'", 2)
    assert request.preset == "synthped/scing/quick" and request.run_dir == tmp_path / "runs" / "run-1"
    assert request.overrides == ("stage1.epochs=2", "model.name=a b", f"data.root={tmp_path / 'data'}")
    (tmp_path / "runs" / "taken").mkdir(parents=True)
    (tmp_path / "runs" / "taken" / "config.yaml").write_text("x")
    for name, overrides, root, message in (("taken", "", "", "Resume"), ("bad name!", "", "", "letters"),
                                           ("ok", "epochs", "", "key=value"), ("ok", "", "/no/such", "does not exist")):
        with pytest.raises(ValueError, match=message):
            build_launch_request(tmp_path, "synthped", "scing", "", name, root, overrides)
    assert parse_overrides("") == [] and suggest_run_name("scing", "quick", {"scing-quick"}) == "scing-quick-2"


def test_workspace_description_distinguishes_missing_demo_missing_empty_ready(tmp_path):
    assert describe_workspace(tmp_path / "nope", 0, True).kind == MISSING_DEMO
    assert describe_workspace(tmp_path, 0, True).kind == MISSING_DEMO      # an unfinished demo build
    assert describe_workspace(tmp_path / "nope", 0, False).kind == MISSING
    assert describe_workspace(tmp_path, 0, False).kind == EMPTY
    ready = describe_workspace(tmp_path, 3, False)
    assert ready.kind == READY and not ready.shows_setup and ready.headline() == "3 runs"
    missing_demo = describe_workspace(tmp_path / "nope", 0, True)
    assert missing_demo.shows_setup and str(tmp_path / "nope") in missing_demo.explanation()
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    status = describe_workspace(a_file, 0, False)
    assert status.kind == NOT_A_FOLDER and status.shows_setup and not status.can_build_demo
    assert "is a file" in status.explanation() and missing_demo.can_build_demo


def test_true_matches_are_other_camera_images_of_the_identity_with_their_top_k_rank():
    state = _retrieval()
    matches = state.true_matches(1)         # pid 2 at camera 0: gallery 1 (cam 1) and not 4 (cam 0: junk)
    assert [(m.index, m.rank) for m in matches] == [(1, 2)]
    assert [(m.index, m.rank) for m in state.true_matches(0)] == [(0, 1)]
    assert state.cmc == []


def test_curves_keep_the_first_config_and_sum_process_time_over_resumes():
    from app.state.curves import describe_config

    config = {"seed": 3, "data": {"dataset": "synthped", "image_size": [64, 32], "ids_per_batch": 4,
                                  "instances_per_id": 4},
              "model": {"method": "scing", "arch": "scing-tiny", "stride": 16, "pretrained": "", "n_ctx": 4,
                        "n_cond": 2, "gate": True},
              "stage1": {"epochs": 2, "lr": 0.01, "scheduler": "constant"}, "stage2": {"epochs": 3, "lr": 0.001}}
    curves = TrainingCurves()
    recipe = "CLIP-ReID's official recipe for the losses and batching; not its schedule: stage 1 lr 0.01 (official 0.00035)"
    curves.add([{"type": "run_started", "config": config, "device": "cpu", "world_size": 1, "recipe": recipe},
                {"type": "run_finished", "status": "stopped", "seconds": 60},
                {"type": "run_started", "config": None, "resume": True, "device": "cpu"},
                {"type": "run_finished", "status": "completed", "seconds": 30}])
    assert curves.config is config and curves.seconds == 90 and curves.status == "completed"
    rows = dict(describe_config(curves.config, curves.device))
    assert rows["model"].startswith("scing-tiny · stride 16") and "random init" in rows["model"]
    assert rows["prompts"] == "4 tokens · condition 2 · gate on" and rows["seed"] == "3 · cpu"
    assert describe_config(None) == []
    assert dict(describe_config(curves.config, curves.device, recipe=curves.recipe))["recipe"] == recipe


def test_distances_keep_significant_digits_when_features_are_nearly_collinear():
    from app.state.retrieval import distance_formatter

    assert distance_formatter([0.2, 0.45])(0.2345) == "0.234"
    tiny = distance_formatter([8.6e-5, 4.4e-4])
    assert tiny(8.583e-5) == "8.58e-05" and tiny(float("nan")) == "—"


def test_comparison_with_another_run_matches_queries_by_path_and_sorts_by_ap_difference():
    state = _retrieval()   # AP 1.0, 0.5, skipped, skipped
    matched = state.set_reference("clipreid", ["/q/2.jpg", "/q/1.jpg", "/q/0.jpg", "/other.jpg"], [0.3, 1.0, 0.25, 0.9])
    assert matched == 3   # /q/3.jpg is not in the other eval; /other.jpg is not in this one
    assert state.delta(0) == pytest.approx(0.75) and state.delta(1) == pytest.approx(-0.5)
    assert math.isnan(state.delta(2)) and math.isnan(state.delta(3))
    state.set_sort("delta_ascending")
    assert [r.index for r in state.visible_rows()][:2] == [1, 0]   # where this run loses most first
    state.set_sort("delta_descending")
    assert [r.index for r in state.visible_rows()][:2] == [0, 1]
    summary = state.reference_summary()
    assert (summary["compared"], summary["better"], summary["worse"]) == (2, 1, 1)
    assert summary["mean_delta"] == pytest.approx(0.125)
    assert describe_comparison(summary) == "vs clipreid: better on 1, worse on 1 of 2 queries · mean ΔAP +12.5 points"
    state.clear_reference()
    assert state.sort_key == "ap_ascending" and math.isnan(state.delta(0))
    with pytest.raises(ValueError, match="nothing to compare"):
        state.set_reference("other", ["/elsewhere.jpg"], [0.5])
