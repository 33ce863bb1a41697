"""`scing demo --quick` end to end: one shared build (module fixture), then completeness, quality
against chance, a re-run that skips everything, and an interrupted run that resumes."""

from __future__ import annotations

import shutil

import pytest
import torch

from scing_core.cli import main as scing
from scing_core.demo import METHODS, DemoWorkspace, build_demo, last_invocation
from scing_core.pipeline.synthetic import SPLITS
from scing_core.demo.report import chance_metrics, run_metrics

pytestmark = pytest.mark.slow

FAR_ABOVE_CHANCE = 2.0  # every run's mAP must be at least this multiple of random ranking's


@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory):
    """One quick demo build, through the command line, shared by every test here."""
    root = tmp_path_factory.mktemp("demo") / "ws"
    assert scing(["demo", "--quick", "--workspace", str(root), "--plain"]) == 0
    return DemoWorkspace.at(root)


def test_quick_demo_builds_a_complete_workspace(demo_ws):
    from scing_core.data.synthped import synthped_state

    for split in SPLITS:
        assert synthped_state(demo_ws.dataset(split)) == "complete"
    assert demo_ws.synthclip.is_file() and demo_ws.synthclip_metrics.is_file()
    for method in METHODS:
        run = demo_ws.run(method)
        assert (run / "config.yaml").is_file() and (run / "prototypes.pt").is_file()
        for split in SPLITS:
            assert (run / "eval" / demo_ws.eval_label(split) / "metrics.json").is_file()
    figures = {p.name for p in demo_ws.figures.iterdir()}
    for name in ("efficiency.txt", "saliency.png", "saliency.pdf", "modality_gap.png", "robustness.png",
                 "distances_scing_occluded.png", "ranking.png", "ranking.pdf"):
        assert name in figures
    report = demo_ws.report.read_text()
    for title in ("CLIP-ReID", "CoCoOp", "SCING"):
        assert f"| {title} ([run](runs/" in report
    assert "holistic mAP" in report and "occluded mAP" in report and "(seed 0)" in report
    assert "](figures/saliency.png)" in report and "not built" not in report
    actions = {e["step"]: e["action"] for e in last_invocation(demo_ws.root)}
    assert set(actions.values()) == {"ran"}


def test_every_run_is_far_above_chance_on_both_splits(demo_ws):
    metrics = run_metrics(demo_ws)
    for split in SPLITS:
        chance = chance_metrics(demo_ws.dataset(split))["mAP"]
        for method in METHODS:
            assert metrics[method][split]["mAP"] >= FAR_ABOVE_CHANCE * chance, (method, split, chance)


def test_rerun_skips_every_step(demo_ws):
    result = build_demo(demo_ws.root, quick=True)
    assert not result.stopped
    assert set(result.actions().values()) == {"skipped"}
    assert {e["action"] for e in last_invocation(demo_ws.root)} == {"skipped"}


def test_interrupted_run_resumes_from_its_last_checkpoint(demo_ws):
    from scing_core.runs.checkpoints import load_checkpoint, save_checkpoint
    from scing_core.runs.events import read_events
    from scing_core.runs.layout import RunDir

    run = RunDir.at(demo_ws.run("cocoop"))
    # roll the run back to "stage 1 finished, stage 2 not started", as a kill at that point leaves it
    state = load_checkpoint(run.stage1)
    save_checkpoint({**state, "stage": 2, "epoch": 0, "step_in_epoch": 0, "stage_state": {}}, run.last)
    run.metrics.unlink()
    assert not run.best.exists()  # the demo reports each run's final epoch
    shutil.rmtree(run.eval)
    before = len(read_events(run.events))

    result = build_demo(demo_ws.root, quick=True)
    actions = result.actions()
    assert actions["run/cocoop"] == "resumed"
    assert actions["run/clipreid"] == actions["run/scing"] == actions["synthclip"] == "skipped"
    assert actions["report"] == "ran" and actions["figures/saliency"] == "ran"  # redone from the new run
    new_events = read_events(run.events)[before:]
    assert new_events[0]["type"] == "run_started" and new_events[0]["resume"] is True
    assert not [e for e in new_events if e["type"] == "epoch_end" and e["stage"] == 1]  # stage 1 not redone
    assert new_events[-1]["type"] == "run_finished" and new_events[-1]["status"] == "completed"
    assert set(run_metrics(demo_ws)["cocoop"]) == set(SPLITS)
    assert torch.load(run.last, weights_only=True)["stage"] == 2
