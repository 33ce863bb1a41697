"""End-to-end training on tiny SynthPed with the tiny architecture (CPU)."""

import json

import pytest
import torch

from scing_core.cli.train import main as train_main
from scing_core.config import resolve_config
from scing_core.runs.checkpoints import load_checkpoint
from scing_core.runs.events import read_events
from scing_core.engine.run import train
from scing_core.errors import RunDirError

from tests.support import quick_overrides

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("method", ["clipreid", "cocoop", "scing"])
def test_each_method_trains_both_stages_into_a_complete_run_dir(tiny_synthped, tmp_path, method):
    run = tmp_path / method
    assert train_main(["--config", f"synthped/{method}/quick", "--run-dir", str(run), "--plain",
                       *quick_overrides(tiny_synthped)]) == 0
    for name in ("config.yaml", "events.jsonl", "prototypes.pt", "metrics.json",
                 "checkpoints/last.pt", "checkpoints/stage1.pt",
                 "eval/synthped/metrics.json", "eval/synthped/topk_indices.npy"):
        assert (run / name).exists(), name
    events = read_events(run / "events.jsonl")
    types = [e["type"] for e in events]
    assert types[0] == "run_started" and types[-1] == "run_finished" and events[-1]["status"] == "completed"
    assert types.count("stage_started") == 2 and "eval" in types and "checkpoint" in types
    record = json.loads((run / "metrics.json").read_text())
    metrics = record["final"]["synthped"]
    assert 0.0 <= metrics["mAP"] <= 1.0
    # default model selection: the final epoch is reported and nothing is chosen on the test set
    assert record["selection"]["mode"] == "final" and record["selection"]["checkpoint"] == "last"
    assert record["selection"]["epoch"] == 3 and "final epoch" in record["selection"]["label"]
    assert not (run / "checkpoints" / "best.pt").exists()
    state = torch.load(run / "checkpoints" / "last.pt", weights_only=True)
    assert state["stage"] == 2 and isinstance(state["config"], dict)
    protos = load_checkpoint(run / "prototypes.pt")["prototypes"]
    assert protos.shape[0] == 16 and torch.allclose(protos.norm(dim=1), torch.ones(16), atol=1e-4)


def test_non_empty_run_dir_is_never_reused_without_resume(tiny_synthped, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "notes.txt").write_text("mine")
    cfg = resolve_config("synthped/scing/quick", quick_overrides(tiny_synthped))
    with pytest.raises(RunDirError, match="not empty.*--resume"):
        train(cfg, run)
    assert (run / "notes.txt").read_text() == "mine"


def _chance_map(eval_dir, trials=20):
    """mAP of random rankings over the same queries and gallery (the protocol's chance level)."""
    import numpy as np

    from scing_core.evaluation import evaluate_rank, load_eval_artifacts

    art = load_eval_artifacts(eval_dir)
    rng = np.random.default_rng(0)
    q, g = art.query, art.gallery
    maps = [evaluate_rank(rng.random((len(q.pids), len(g.pids))), q.pids, g.pids, q.camids, g.camids).mAP
            for _ in range(trials)]
    return float(np.mean(maps))


@pytest.mark.parametrize("method", ["clipreid", "scing"])
def test_training_ranks_far_above_chance(tiny_synthped, tmp_path, method):
    run = tmp_path / method
    overrides = [f"data.root={tiny_synthped}", "data.ids_per_batch=4", "data.instances_per_id=4",
                 "stage1.epochs=60", "stage2.epochs=80", "stage2.milestones=[60]", "eval_every=80"]
    assert train_main(["--config", f"synthped/{method}/quick", "--run-dir", str(run), "--plain", *overrides]) == 0
    achieved = json.loads((run / "metrics.json").read_text())["final"]["synthped"]["mAP"]
    chance = _chance_map(run / "eval" / "synthped")
    assert achieved > 2.5 * chance, (achieved, chance)  # tiny data: 16 training identities
