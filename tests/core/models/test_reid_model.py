"""The ReIDModel API the engine codes against: features, descriptors, text, and the two stages."""

from __future__ import annotations

import pytest
import torch

from scing_core.errors import ConfigError, InputError
from scing_core.models import ImageFeatures, build_model

from .conftest import tiny_config

NUM_CLASSES = 5


def make_model(method: str = "scing", **model_fields):
    torch.manual_seed(0)
    return build_model(tiny_config(method=method, **model_fields), num_classes=NUM_CLASSES, num_cams=3)


def params_with_grad(model) -> set[str]:
    """Parameters the backward pass reached (a dead ReLU may still leave a reached gradient at zero)."""
    return {name for name, p in model.named_parameters() if p.grad is not None}


def trainable_names(model, stage: int) -> set[str]:
    wanted = {id(p) for p in model.trainable_parameters(stage)}
    return {name for name, p in model.named_parameters() if id(p) in wanted}


def run_everything(model, images, labels, cams) -> None:
    """One backward through every part: images, conditioned text, heads and logit scale."""
    out = model.forward_train(images, cams)
    feats = ImageFeatures(out.pre_proj, out.proj)
    text = model.encode_text(labels, feats)
    loss = text.square().mean() + sum(logits.square().mean() for logits in out.logits)
    loss = loss + out.pre_proj.square().mean() + out.proj.square().mean()
    loss.backward()


@pytest.mark.parametrize("method", ["clipreid", "cocoop", "scing"])
def test_stage1_gradients_reach_exactly_the_prompt_learner(method, images, labels, cams):
    model = make_model(method, sie=True)
    model.set_stage(1)
    run_everything(model, images, labels, cams)
    reached = params_with_grad(model)
    assert reached and reached == trainable_names(model, 1)
    assert model.prompt_learner.ctx.grad[labels].abs().sum() > 0
    assert all(name.startswith("prompt_learner.") for name in reached)
    if method != "clipreid":
        assert any("ctx" not in name for name in reached)  # meta-net / SVIP parameters train too


@pytest.mark.parametrize("method", ["clipreid", "scing"])
def test_stage2_gradients_reach_image_encoder_sie_and_heads_only(method, images, labels, cams):
    model = make_model(method, sie=True)
    model.set_stage(2)
    run_everything(model, images, labels, cams)
    reached = params_with_grad(model)
    assert reached == trainable_names(model, 2)
    assert "backbone.sie_embed" in reached and "classifier_proj.weight" in reached
    assert "bottleneck.weight" in reached and "bottleneck.bias" not in reached  # BNNeck bias stays frozen
    assert not any(name.startswith(("prompt_learner.", "text_encoder.")) for name in reached)
    assert not any(name.startswith("backbone.clip.transformer.") for name in reached)  # text tower
    assert any(name.startswith("backbone.clip.visual.") for name in reached)


def test_unknown_stage_is_refused():
    with pytest.raises(InputError, match="stage"):
        make_model().set_stage(3)


def test_encode_text_conditions_on_the_learners_feature_and_needs_it(images, labels):
    model = make_model("scing").eval()
    feats = model.encode_image(images)
    assert model.uses_condition and model.text_condition(feats) is feats.pre_proj
    text = model.encode_text(labels, feats)
    assert text.shape == (4, 32)
    assert not torch.allclose(text, model.encode_text_unconditioned(labels))
    with pytest.raises(InputError, match="cond_features"):
        model.encode_text(labels)
    cocoop = make_model("cocoop").eval()
    assert cocoop.text_condition(feats) is feats.proj
    clipreid = make_model("clipreid").eval()
    assert not clipreid.uses_condition and clipreid.text_condition(feats) is None
    torch.testing.assert_close(clipreid.encode_text(labels), clipreid.encode_text_unconditioned(labels))


@pytest.mark.parametrize(
    ("test_feature", "neck_feat", "width"),
    [("concat", "before", 96), ("proj", "before", 32), ("pre_proj", "after", 64), ("concat", "after", 96)],
)
def test_inference_descriptor_follows_test_feature_and_neck(test_feature, neck_feat, width, images):
    model = make_model("clipreid", test_feature=test_feature, neck_feat=neck_feat).eval()
    model.bottleneck.running_mean.fill_(0.5)  # make the BNNeck visibly different from identity
    with torch.no_grad():
        descriptor = model(images)
        pre_proj, proj = model.encode_image(images)
    assert descriptor.shape == (4, width)
    if (test_feature, neck_feat) == ("concat", "before"):
        torch.testing.assert_close(descriptor, torch.cat([pre_proj, proj], dim=1))
    if neck_feat == "after":
        torch.testing.assert_close(descriptor[:, :64], model.bottleneck(pre_proj))


def test_forward_train_gives_both_classifiers_logits(images):
    out = make_model("scing").forward_train(images)
    assert out.pre_proj.shape == (4, 64) and out.bn_proj.shape == (4, 32)
    assert [tuple(logits.shape) for logits in out.logits] == [(4, NUM_CLASSES), (4, NUM_CLASSES)]


def test_logit_scale_is_exp_of_clip_scale_without_grad():
    model = make_model()
    assert not model.logit_scale.requires_grad
    torch.testing.assert_close(model.logit_scale, torch.tensor(1 / 0.07))


def test_bad_descriptor_settings_are_config_errors():
    with pytest.raises(ConfigError, match="test_feature"):
        make_model(test_feature="both")
    with pytest.raises(ConfigError, match="num_cams must be >= 0"):
        build_model(tiny_config(sie=True), num_classes=3, num_cams=-1)
    # a training set without real cameras (P-DukeMTMC): sie asks for SIE where there are cameras, none here
    assert build_model(tiny_config(sie=True), num_classes=3, num_cams=0).backbone.sie_embed is None
