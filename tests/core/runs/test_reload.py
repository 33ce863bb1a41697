"""A run reloaded from its checkpoint is the network that was trained (QuickGELU kept)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from scing_core.cli.evaluate import main as eval_main
from scing_core.models import create_backbone
from scing_core.models.clip_backbone import built_activation
from scing_core.runs.checkpoints import load_checkpoint
from scing_core.runs.trained import TrainedRun

from tests.support import strict_json, train_tiny_run

pytestmark = pytest.mark.slow


def openai_layout_file(path, seed: int = 0):
    """scing-tiny weights saved the way OpenAI's CLIP state dict is (its JIT extras included)."""
    torch.manual_seed(seed)
    state = create_backbone("scing-tiny", image_size=(64, 32)).clip.state_dict()
    state.update(input_resolution=torch.tensor(64), context_length=torch.tensor(77), vocab_size=torch.tensor(49408))
    torch.save(state, path)
    return path


@pytest.fixture(scope="module")
def quick_gelu_run(tiny_synthped, tmp_path_factory):
    """A tiny SCING run trained from OpenAI-layout weights: built with QuickGELU (activation auto)."""
    folder = tmp_path_factory.mktemp("quickgelu")
    weights = openai_layout_file(folder / "openai-layout.pt")
    return train_tiny_run("scing", tiny_synthped, folder / "run", f"model.pretrained={weights}")


def test_a_run_trained_from_openai_weights_records_quick_gelu(quick_gelu_run):
    state = load_checkpoint(quick_gelu_run / "checkpoints" / "last.pt")
    assert state["activation"] == "quick_gelu"
    started = [json.loads(line) for line in (quick_gelu_run / "events.jsonl").read_text().splitlines()][0]
    assert started["type"] == "run_started" and started["activation"] == "quick_gelu"
    model = TrainedRun.open(quick_gelu_run).load(device="cpu", prototypes=False).model
    assert built_activation(model) == "quick_gelu"


def test_reloaded_run_gives_bit_identical_descriptors_and_metrics(quick_gelu_run, capsys):
    trained = quick_gelu_run / "eval" / "synthped"
    features = {name: np.load(trained / f"{name}_features.npy") for name in ("query", "gallery")}
    metrics = json.loads((trained / "metrics.json").read_text())
    assert eval_main(["--run-dir", str(quick_gelu_run), "--json"]) == 0
    reported = strict_json(capsys.readouterr().out)["synthped"]
    for name, array in features.items():
        assert np.array_equal(np.load(trained / f"{name}_features.npy"), array), name
    assert reported["mAP"] == metrics["mAP"] and reported["R1"] == metrics["R1"]


def test_checkpoint_without_the_record_takes_the_activation_its_weights_imply(quick_gelu_run):
    from scing_core.runs.trained import model_from_checkpoint

    state = load_checkpoint(quick_gelu_run / "checkpoints" / "last.pt")
    del state["activation"]   # written before checkpoints recorded it: the weights file still says
    model, _ = model_from_checkpoint(state)
    assert built_activation(model) == "quick_gelu"
