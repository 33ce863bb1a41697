"""Honest model selection: the final epoch by default, the test set only when asked (and labelled
so), or a validation split held out from the training identities."""

from __future__ import annotations

import json

import pytest

from scing_core.cli import main as scing
from scing_core.config.schema import DataConfig
from scing_core.data import load_dataset
from scing_core.data.val_split import hold_out_validation
from scing_core.runs.checkpoints import load_checkpoint
from scing_core.runs.events import read_events
from scing_core.runs.layout import RunDir
from scing_core.errors import ConfigError, RunDirError

from tests.support import quick_overrides

pytestmark = pytest.mark.slow


def _train(root, run, *extra):
    assert scing(["train", "--config", "synthped/scing/quick", "--run-dir", str(run), "--plain",
                  *quick_overrides(root, "stage2.epochs=4", "eval_every=1", *extra)]) == 0
    return json.loads((run / "metrics.json").read_text())


def test_default_reports_the_final_epoch_and_writes_no_best_checkpoint(tiny_synthped, tmp_path):
    run = tmp_path / "final"
    record = _train(tiny_synthped, run)
    assert record["selection"] == {"mode": "final", "checkpoint": "last", "epoch": 4,
                                   "label": "final epoch (as the paper and CLIP-ReID report)"}
    assert "last_epoch" not in record and not (run / "checkpoints" / "best.pt").exists()
    evals = [e for e in read_events(run / "events.jsonl") if e["type"] == "eval" and not e.get("final")]
    assert len(evals) == 4 and not any(e["selection"] or "best" in e for e in evals)
    rundir = RunDir.at(run)
    assert rundir.checkpoint("selected") == rundir.last
    with pytest.raises(RunDirError, match="no best.pt.*--checkpoint selected"):
        rundir.checkpoint("best")


def test_test_set_selection_is_labelled_optimistic_and_keeps_the_last_epochs_numbers(tiny_synthped, tmp_path):
    run = tmp_path / "test"
    record = _train(tiny_synthped, run, "model_selection=test")
    selection = record["selection"]
    assert selection["mode"] == "test" and selection["checkpoint"] == "best" and "optimistic" in selection["label"]
    best = load_checkpoint(run / "checkpoints" / "best.pt")
    assert best["epoch"] == selection["epoch"] and 1 <= selection["epoch"] <= 4
    assert record["final"]["synthped"]["mAP"] == pytest.approx(selection["mAP"])
    assert set(record["last_epoch"]) == {"synthped"}
    assert RunDir.at(run).checkpoint("selected") == RunDir.at(run).best


def test_validation_selection_uses_held_out_training_ids_and_never_the_test_set(tiny_synthped, tmp_path):
    run = tmp_path / "val"
    record = _train(tiny_synthped, run, "model_selection=val", "data.val_ids=4")
    assert record["selection"]["split"] == "val" and "4 training identities" in record["selection"]["label"]
    evals = [e for e in read_events(run / "events.jsonl") if e["type"] == "eval"]
    during = [e for e in evals if "selection" in e]  # the evaluations of stage 2's epochs
    assert [e["dataset"] for e in during] == ["val"] * 4 and all(e["selection"] for e in during)
    assert {e["dataset"] for e in evals if "selection" not in e} == {"synthped"}  # the test set: only at the end
    prototypes = load_checkpoint(run / "prototypes.pt")["prototypes"]
    assert prototypes.shape[0] == 16 - 4  # the held-out identities are not trained on


def test_hold_out_validation_splits_identities_and_relabels_the_rest(tiny_synthped):
    dataset = load_dataset("synthped", tiny_synthped)
    train, val = hold_out_validation(dataset, 4)
    held = set(val.extras["held_out_ids"])
    assert len(held) == 4 and {s.pid for s in val.query} == held == {s.pid for s in val.gallery}
    assert sorted({s.pid for s in train.train}) == list(range(12))
    assert len(train.train) + len(val.query) + len(val.gallery) == len(dataset.train)
    assert {(s.pid, s.camid) for s in val.query} == {(s.pid, s.camid) for s in dataset.train if s.pid in held}
    assert hold_out_validation(dataset, 4)[1].query == val.query  # the same split every time
    with pytest.raises(ConfigError, match="data.val_ids=15"):
        hold_out_validation(dataset, 15, min_train_ids=DataConfig().instances_per_id)
