"""PDCA in stage 1: fresh perturbed views (a bank drawn anew every refresh_every epochs), the paper's
feature dropout on the backbone's final feature map, nothing encoded when PDCA is off, and clear
errors when lambda_con > 0 cannot run."""

from __future__ import annotations

import pytest
import torch

from scing_core.engine import feature_cache
from scing_core.engine.stage1 import PromptStage
from scing_core.errors import ConfigError

from tests.support import tiny_context

pytestmark = pytest.mark.slow


def test_pdca_sees_different_perturbed_views_in_different_epochs(tiny_synthped, tmp_path):
    ctx = tiny_context("occluded_duke/scing", tiny_synthped, tmp_path / "run", "perturb.refresh_every=1")
    stage = PromptStage.from_context(ctx)
    banks = []
    for epoch in range(3):
        stage.epoch_batches(epoch)
        banks.append(stage.bank)
    assert [bank.period for bank in banks] == [0, 1, 2]
    assert banks[0].views == ctx.cfg.perturb.views_per_image == 2
    for earlier, later in ((banks[0], banks[1]), (banks[1], banks[2])):
        same = torch.isclose(earlier.trunk, later.trunk, atol=1e-5).all(dim=-1)  # [N, V]
        assert same.float().mean() < 0.2  # most images get new views (a few draw no perturbation at all)
    parts = stage.run_step(stage.epoch_batches(2)[0])
    assert parts["consistency"] > 0


def test_a_bank_is_kept_for_refresh_every_epochs(tiny_synthped, tmp_path, monkeypatch):
    ctx = tiny_context("occluded_duke/scing", tiny_synthped, tmp_path / "run", "perturb.refresh_every=2")
    drawn = []
    encode = feature_cache.encode_view_bank
    monkeypatch.setattr("scing_core.engine.stage1.encode_view_bank",
                        lambda c, period: drawn.append(period) or encode(c, period))
    stage = PromptStage.from_context(ctx)
    for epoch in range(5):
        stage.epoch_batches(epoch)
    assert drawn == [0, 1, 2]


def test_feature_dropout_falls_on_the_final_feature_map_before_ln_post_fresh_every_step(tiny_synthped, tmp_path):
    ctx = tiny_context("occluded_duke/scing", tiny_synthped, tmp_path / "run")
    stage = PromptStage.from_context(ctx)
    stage.epoch_batches(0)
    idx, choice = torch.arange(4), torch.zeros(4, dtype=torch.long)
    backbone = ctx.model.backbone
    clean = stage.bank.features(ctx.model, idx, choice, 0.0)
    assert torch.allclose(clean.pre_proj, backbone.visual.ln_post(stage.bank.trunk[idx, 0]))
    assert torch.allclose(clean.proj, clean.pre_proj @ backbone.visual.proj)
    first, second = (stage.bank.features(ctx.model, idx, choice, 0.5) for _ in range(2))
    assert not torch.allclose(first.pre_proj, clean.pre_proj) and not torch.allclose(first.pre_proj, second.pre_proj)


@pytest.mark.parametrize("preset", ["occluded_duke/clipreid", "occluded_duke/clipreid/ablation",
                                    "occluded_duke/cocoop", "occluded_duke/scing/pdca_off"])
def test_without_pdca_no_perturbed_view_is_encoded(tiny_synthped, tmp_path, monkeypatch, preset):
    def refuse(*args, **kwargs):
        raise AssertionError("a perturbed view was encoded although PDCA is off")

    monkeypatch.setattr("scing_core.engine.stage1.encode_view_bank", refuse)
    monkeypatch.setattr(feature_cache, "build_perturbation", refuse)
    stage = PromptStage.from_context(tiny_context(preset, tiny_synthped, tmp_path / "run"))
    stage.run_step(stage.epoch_batches(0)[0])
    assert stage.bank is None and stage.pdca is None


@pytest.mark.parametrize("preset, overrides, message", [
    ("occluded_duke/clipreid", ["loss.lambda_con=1.0"], "does not condition its prompts"),
    ("occluded_duke/scing", ["perturb.views_per_image=1"], r"perturb\.views_per_image = 1; set it to 2"),
])
def test_pdca_that_cannot_run_is_a_config_error_before_any_work(tiny_synthped, tmp_path, preset, overrides, message):
    with pytest.raises(ConfigError, match=message):
        tiny_context(preset, tiny_synthped, tmp_path / "run", *overrides)
