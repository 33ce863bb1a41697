"""`scing synthclip --quick` end to end: checkpoint + metrics, learnt something, loads as ReID weights.

The module shares one quick pre-training (about 20-30 s on one CPU thread), hence `slow`.
"""

from __future__ import annotations

import json

import pytest
import torch

from scing_core.cli import main as scing
from scing_core.config import resolve_config
from scing_core.errors import InputError
from scing_core.models import build_model, create_backbone
from scing_core.pretrain import evaluate_synthclip
from scing_core.pretrain.probing import ATTRIBUTE_PROBES

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """One quick pre-training (about 20 s on a 2-core CPU) shared by the tests below."""
    root = tmp_path_factory.mktemp("synthclip")
    out, data = root / "models" / "synthclip-s.pt", root / "data"
    assert scing(["synthclip", "--out", str(out), "--quick", "--data", str(data), "--plain"]) == 0
    return out, data


def test_quick_run_writes_a_weights_only_checkpoint_and_its_metrics_json(quick_run):
    out, _ = quick_run
    payload = torch.load(out, weights_only=True)
    assert set(payload) == {"state_dict", "arch", "image_size", "activation", "metrics", "config"}
    assert payload["arch"] == "synthclip-s" and payload["image_size"] == [128, 64]
    assert json.loads(out.with_name(out.name + ".json").read_text()) == payload["metrics"]
    metrics = payload["metrics"]
    assert {"held_out", "zero_shot", "attributes", "training"} <= set(metrics)
    assert metrics["training"]["quick"] is True and metrics["training"]["steps"] > 0
    assert payload["config"]["data"]["parameters"]["pid_offset"] == 5000


def test_quick_model_retrieves_held_out_captions_above_chance(quick_run):
    """R@1 of the 20-second model is a few hits in 400 images (2-7x chance): R@1 must beat chance and
    R@10 (more hits, less luck: a random ranking reaches 2x chance with well under 1 % probability
    here) must double it, both ways."""
    zero_shot = torch.load(quick_run[0], weights_only=True)["metrics"]["zero_shot"]
    for direction in ("i2t", "t2i"):
        assert zero_shot[f"{direction}_r1"] > zero_shot[f"{direction}_chance_r1"], direction
        assert zero_shot[f"{direction}_r10"] > 2 * zero_shot[f"{direction}_chance_r10"], direction


def test_attribute_probing_reports_precision_and_base_rate_per_probe(quick_run):
    attributes = torch.load(quick_run[0], weights_only=True)["metrics"]["attributes"]
    assert set(attributes["per_probe"]) == {p.name for p in ATTRIBUTE_PROBES}
    for probe in attributes["per_probe"].values():
        assert 0.0 <= probe["precision_at_k"] <= 1.0 and 0.0 <= probe["base_rate"] <= 1.0
        assert probe["prompt"].startswith("a ") and probe["positives"] >= 0
    assert attributes["k"] == 10 and attributes["probes"] >= 10


def test_checkpoint_loads_as_pretrained_weights_of_a_reid_model(quick_run):
    out, _ = quick_run
    cfg = resolve_config("synthped/scing/quick", ["model.arch=synthclip-s", f"model.pretrained={out}",
                                                  "data.image_size=[128, 64]"])
    model = build_model(cfg, num_classes=4, num_cams=2)
    saved = torch.load(out, weights_only=True)["state_dict"]
    loaded = model.backbone.clip.state_dict()
    assert set(saved) == set(loaded)
    for name, value in saved.items():
        assert torch.equal(loaded[name], value), name
    bigger = create_backbone("synthclip-s", pretrained=str(out), image_size=(256, 128), stride=12)
    assert bigger.grid == (21, 10)
    torch.testing.assert_close(bigger.clip.visual.conv1.weight, saved["visual.conv1.weight"])


def test_evaluation_refuses_the_people_it_was_trained_on(quick_run):
    out, data = quick_run
    with pytest.raises(InputError, match="trained on"):
        evaluate_synthclip(out, data, splits=("train",))


def test_evaluation_takes_a_reid_backbone_and_a_subset(quick_run):
    out, data = quick_run
    backbone = create_backbone("synthclip-s", pretrained=str(out), image_size=(128, 64)).train()
    metrics = evaluate_synthclip(backbone, data, max_images=20, k=3)
    assert metrics["held_out"]["images"] == 20 and metrics["attributes"]["k"] == 3
    assert backbone.training  # evaluation leaves the caller's model in the mode it found it
    reloaded = evaluate_synthclip(out, data, max_images=20, k=3)
    assert reloaded["zero_shot"] == metrics["zero_shot"]  # same weights, same numbers
