"""The `clipreid` presets train as CLIP-ReID's official code does (Syliz517/CLIP-ReID): one test per
behaviour, each failing if that behaviour regressed (docs/fidelity.md lists them)."""

from __future__ import annotations

import pytest
import torch

from scing_core.data.loaders import ConfiguredLoaders
from scing_core.data.samplers import ShuffleBatches
from scing_core.engine.schedule import build_optimizer
from scing_core.engine.stage1 import PromptStage

from tests.support import tiny_context

pytestmark = pytest.mark.slow


def official_supcon(text_features, image_features, t_label, i_targets):
    """CLIP-ReID's loss/supcontrast.py SupConLoss.forward, restated: raw dot products over temperature
    1, max-shifted log-softmax, mean log-probability of the positives, mean over the anchors."""
    mask = (t_label[:, None] == i_targets[None, :]).float()
    logits = text_features @ image_features.T / 1.0
    logits = logits - logits.max(dim=1, keepdim=True).values.detach()
    log_prob = logits - torch.log(torch.exp(logits).sum(1, keepdim=True))
    return -((mask * log_prob).sum(1) / mask.sum(1)).mean()


@pytest.fixture
def clipreid(tiny_synthped, tmp_path):
    return tiny_context("occluded_duke/clipreid", tiny_synthped, tmp_path / "run", "data.ids_per_batch=3")


def test_stage1_step_computes_the_official_supcon_loss_on_the_same_tensors(clipreid):
    stage = PromptStage.from_context(clipreid)
    batch = stage.epoch_batches(0)[0]
    idx = torch.as_tensor(batch)
    labels, image = stage.cache.labels[idx], stage.cache.proj[idx]
    with torch.no_grad():
        text = clipreid.model.encode_text(labels).float()
    # processor_clipreid_stage1.py: loss = xent(image, text, target, target) + xent(text, image, target, target)
    expected = official_supcon(image, text, labels, labels) + official_supcon(text, image, labels, labels)
    assert stage.run_step(batch)["total"] == pytest.approx(expected.item(), abs=1e-6)


def test_stage1_batches_are_official_shuffled_batches_covering_every_image_once(clipreid):
    stage = PromptStage.from_context(clipreid)
    assert isinstance(stage.sampler, ShuffleBatches)
    n = len(clipreid.dataset.train)  # 128 images, batch 3 x 4 = 12: ten full batches and a partial one
    epochs = [stage.epoch_batches(epoch) for epoch in (0, 1)]
    for batches in epochs:
        assert [len(b) for b in batches] == [12] * (n // 12) + [n % 12]
        assert sorted(i for b in batches for i in b) == list(range(n))
    assert epochs[0] != epochs[1]  # a new permutation every epoch (torch.randperm per epoch)


def test_stage1_cache_encodes_without_sie_as_the_official_stage1(clipreid):
    model = clipreid.model
    assert model.backbone.sie_embed is not None
    with torch.no_grad():
        model.backbone.sie_embed.normal_(std=1.0)  # a visible camera vector
    stage = PromptStage.from_context(clipreid)
    images, _, cams, idx = next(iter(ConfiguredLoaders(clipreid.cfg).test(clipreid.dataset.train[:8])))
    model.eval()
    with torch.no_grad():
        plain = model.encode_image(images, skip_sie=True).proj
        with_sie = model.encode_image(images, cams).proj
    assert torch.allclose(stage.cache.proj[:8], plain, atol=1e-5)
    assert not torch.allclose(stage.cache.proj[:8], with_sie, atol=1e-3)


def test_triplet_runs_on_the_layer11_cls_the_second_to_last_blocks_output(clipreid):
    backbone = clipreid.model.backbone
    captured = {}
    blocks = backbone.visual.transformer.resblocks
    blocks[-2].register_forward_hook(lambda module, args, output: captured.update(out=output[:, 0]))
    images, _, cams, _ = next(iter(ConfiguredLoaders(clipreid.cfg).test(clipreid.dataset.train[:4])))
    out = clipreid.model.forward_train(images, cams)
    assert torch.equal(out.penultimate, captured["out"])
    assert not torch.allclose(out.penultimate, out.pre_proj)
    assert clipreid.cfg.loss.triplet_features == ("penultimate", "pre_proj", "proj")


def test_stage2_bias_lr_applies_to_every_parameter_named_bias_including_attention_in_proj_bias(clipreid):
    model = clipreid.model
    model.set_stage(2)
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    optimizer = build_optimizer(named, clipreid.cfg.stage2)
    lr_of = {name: group["lr"] for (name, _), group in zip(named, optimizer.param_groups)}
    base = clipreid.cfg.stage2.lr
    in_proj = [n for n in lr_of if n.endswith("attn.in_proj_bias")]
    assert in_proj and all(lr_of[n] == pytest.approx(2 * base) for n in in_proj)
    assert all(lr_of[n] == pytest.approx(2 * base) for n in lr_of if "bias" in n)
    assert all(lr_of[n] == pytest.approx(base) for n in lr_of if "bias" not in n)
