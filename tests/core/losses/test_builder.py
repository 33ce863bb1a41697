"""Stage objectives weighted from LossConfig: sums, skipped terms, reported parts, config errors."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import pytest
import torch

from scing_core.config.schema import LossConfig
from scing_core.errors import ConfigError, InputError
from scing_core.losses import (
    Stage1Loss,
    Stage2Loss,
    builder,
    consistency_loss,
    i2t_ce_loss,
    supcon_loss,
    xm_triplet_loss,
)

LABELS = torch.tensor([0, 0, 1, 1])


def stage2_output(num_classes=3, requires_grad=False):
    torch.manual_seed(0)
    return SimpleNamespace(
        penultimate=torch.randn(4, 6, requires_grad=requires_grad),
        pre_proj=torch.randn(4, 6, requires_grad=requires_grad),
        proj=torch.randn(4, 5, requires_grad=requires_grad),
        bn_pre_proj=torch.randn(4, 6),
        bn_proj=torch.randn(4, 5),
        logits=[torch.randn(4, num_classes, requires_grad=requires_grad) for _ in range(2)],
    )


def official_triplet(features, labels, margin):
    """CLIP-ReID's loss/triplet_loss.py TripletLoss (normalize_feature=False), restated: Euclidean distances
    (clamped at 1e-12 before the root), the hardest positive and negative per anchor, then
    MarginRankingLoss(margin)(dist_an, dist_ap, y=1) = mean(max(0, dist_ap - dist_an + margin))."""
    squared = (features ** 2).sum(1, keepdim=True)
    dist = (squared + squared.t() - 2 * features @ features.t()).clamp(min=1e-12).sqrt()
    same = labels[:, None] == labels[None, :]
    dist_ap = torch.stack([dist[i][same[i]].max() for i in range(len(labels))])
    dist_an = torch.stack([dist[i][~same[i]].min() for i in range(len(labels))])
    return torch.clamp(dist_ap - dist_an + margin, min=0).mean().item()


def official_smoothed_ce(logits, labels, epsilon):
    """CLIP-ReID's CrossEntropyLabelSmooth, restated: targets (1 - eps) * onehot + eps / C, then
    (-targets * log_softmax).mean(0).sum()."""
    classes = logits.shape[1]
    targets = (1 - epsilon) * torch.nn.functional.one_hot(labels, classes).float() + epsilon / classes
    return (-targets * torch.log_softmax(logits, dim=1)).mean(0).sum().item()


def forbid(monkeypatch, *names):
    """Make the named builder-level loss functions fail if called."""
    for name in names:
        def refuse(*args, _name=name, **kwargs):
            raise AssertionError(f"{_name} was computed although its weight is 0")

        monkeypatch.setattr(builder, name, refuse)


def test_stage1_total_is_both_supcons_plus_weighted_consistency():
    torch.manual_seed(1)
    images, texts, view1, view2 = (torch.randn(4, 5) for _ in range(4))
    cfg = LossConfig(temperature=0.5, lambda_con=0.7)
    total, parts = Stage1Loss(cfg)(images, texts, LABELS, [view1, view2], 30.0)
    i2t = supcon_loss(images, texts, LABELS, LABELS, 30.0, 0.5).item()
    t2i = supcon_loss(texts, images, LABELS, LABELS, 30.0, 0.5).item()
    con = consistency_loss(texts, view1, view2).item()
    expected = {"supcon_i2t": i2t, "supcon_t2i": t2i, "consistency": con, "total": i2t + t2i + 0.7 * con}
    assert parts == pytest.approx(expected)
    assert total.item() == pytest.approx(i2t + t2i + 0.7 * con, rel=1e-6)
    assert all(type(value) is float for value in parts.values())


@pytest.mark.parametrize("lambda_con, views", [(0.0, "given"), (1.0, None)])
def test_stage1_skips_consistency_without_views_or_weight(monkeypatch, lambda_con, views):
    forbid(monkeypatch, "consistency_loss")
    texts = torch.randn(4, 5)
    view_texts = [torch.randn(4, 5), torch.randn(4, 5)] if views else None
    total, parts = Stage1Loss(LossConfig(lambda_con=lambda_con))(torch.randn(4, 5), texts, LABELS, view_texts, 10.0)
    assert set(parts) == {"supcon_i2t", "supcon_t2i", "total"}
    assert parts["total"] == pytest.approx(parts["supcon_i2t"] + parts["supcon_t2i"], rel=1e-6)


def test_stage1_gradients_reach_text_and_views_but_not_frozen_images():
    images = torch.randn(4, 5)
    texts, view1, view2 = (torch.randn(4, 5, requires_grad=True) for _ in range(3))
    total, _ = Stage1Loss(LossConfig(lambda_con=1.0))(images, texts, LABELS, [view1, view2], 10.0)
    total.backward()
    assert all(t.grad is not None and t.grad.abs().sum() > 0 for t in (texts, view1, view2))


def test_stage1_requires_exactly_two_views():
    with pytest.raises(InputError, match="exactly two"):
        Stage1Loss(LossConfig(lambda_con=1.0))(torch.randn(4, 5), torch.randn(4, 5), LABELS, [torch.randn(4, 5)], 10.0)


def test_stage2_total_is_the_weighted_sum_of_all_four_terms():
    out, prototypes = stage2_output(), torch.randn(3, 5)
    cfg = LossConfig(w_i2t_ce=1.0, w_xm_triplet=0.5, w_id=0.25, w_triplet=2.0, xm_margin=0.4,
                     triplet_margin=0.3, label_smoothing=0.1)
    total, parts = Stage2Loss(cfg)(out, LABELS, prototypes, 20.0)
    expected = {
        "i2t_ce": i2t_ce_loss(out.proj, prototypes, LABELS, 20.0, "cosine", 0.1).item(),
        "xm_triplet": xm_triplet_loss(out.proj, prototypes[LABELS], LABELS, 0.4).item(),
        "id": sum(official_smoothed_ce(s, LABELS, 0.1) for s in out.logits),
        "triplet": sum(official_triplet(f, LABELS, 0.3) for f in (out.pre_proj, out.proj)),
    }
    weights = {"i2t_ce": 1.0, "xm_triplet": 0.5, "id": 0.25, "triplet": 2.0}
    expected["total"] = sum(weights[name] * value for name, value in expected.items())
    assert parts == pytest.approx(expected, rel=1e-5)
    assert total.item() == pytest.approx(expected["total"], rel=1e-5)


def test_stage2_official_clipreid_terms_use_raw_logits_smoothing_and_three_triplet_features():
    """CLIP-ReID's make_loss: 0.25 * sum of smoothed ID CEs + sum of triplets over [layer 11, pre_proj,
    proj] + smoothed CE on image_features @ text_features.t() (raw, unnormalised)."""
    out, prototypes = stage2_output(), torch.randn(3, 5) * 4
    cfg = LossConfig(w_i2t_ce=1.0, w_xm_triplet=0.0, w_id=0.25, w_triplet=1.0, label_smoothing=0.1,
                     i2t_similarity="dot", triplet_features=("penultimate", "pre_proj", "proj"))
    total, parts = Stage2Loss(cfg)(out, LABELS, prototypes, 20.0)
    i2t = official_smoothed_ce(out.proj @ prototypes.t(), LABELS, 0.1)   # processor_clipreid_stage2.py: raw logits
    triplet = sum(official_triplet(f, LABELS, 0.3) for f in (out.penultimate, out.pre_proj, out.proj))
    ident = sum(official_smoothed_ce(logits, LABELS, 0.1) for logits in out.logits)
    assert parts["i2t_ce"] == pytest.approx(i2t, rel=1e-6)
    assert parts["triplet"] == pytest.approx(triplet, rel=1e-6)
    assert parts["id"] == pytest.approx(ident, rel=1e-6)
    assert total.item() == pytest.approx(i2t + triplet + 0.25 * ident, rel=1e-6)


@pytest.mark.parametrize("field,value", [("supcon_similarity", "euclid"), ("i2t_similarity", "l2"),
                                         ("triplet_features", ("proj", "proj")), ("triplet_features", ("cls",))])
def test_unknown_similarity_or_triplet_feature_is_a_config_error(field, value):
    with pytest.raises(ConfigError, match=f"loss.{field}"):
        Stage2Loss(replace(LossConfig(), **{field: value}))


def test_stage2_zero_weight_terms_are_not_computed(monkeypatch):
    forbid(monkeypatch, "xm_triplet_loss", "label_smoothed_ce_loss", "batch_hard_triplet_loss")
    out = SimpleNamespace(proj=torch.randn(4, 5))  # no logits, no pre_proj: never touched
    cfg = LossConfig(w_i2t_ce=2.0, w_xm_triplet=0.0, w_id=0.0, w_triplet=0.0)
    prototypes = torch.randn(3, 5)
    total, parts = Stage2Loss(cfg)(out, LABELS, prototypes, 10.0)
    assert set(parts) == {"i2t_ce", "total"}
    assert total.item() == pytest.approx(2.0 * i2t_ce_loss(out.proj, prototypes, LABELS, 10.0).item(), rel=1e-6)


def test_stage2_fixed_i2t_scale_overrides_the_model_scale():
    out, prototypes = stage2_output(), torch.randn(3, 5)
    cfg = LossConfig(w_xm_triplet=0.0, i2t_logit_scale=7.0)
    _, fixed = Stage2Loss(cfg)(out, LABELS, prototypes, 100.0)
    _, model_scale = Stage2Loss(replace(cfg, i2t_logit_scale=0.0))(out, LABELS, prototypes, 100.0)
    assert fixed["i2t_ce"] == pytest.approx(i2t_ce_loss(out.proj, prototypes, LABELS, 7.0).item(), rel=1e-6)
    assert model_scale["i2t_ce"] == pytest.approx(i2t_ce_loss(out.proj, prototypes, LABELS, 100.0).item(), rel=1e-6)


def test_stage2_gradients_reach_the_image_features_and_classifier_logits():
    out, prototypes = stage2_output(requires_grad=True), torch.randn(3, 5)
    cfg = LossConfig(w_id=1.0, w_triplet=1.0, triplet_margin=10.0)
    total, _ = Stage2Loss(cfg)(out, LABELS, prototypes, 10.0)
    total.backward()
    for tensor in (out.pre_proj, out.proj, *out.logits):
        assert tensor.grad is not None and torch.isfinite(tensor.grad).all() and tensor.grad.abs().sum() > 0


def test_stage2_id_loss_needs_classifier_logits():
    out = stage2_output()
    out.logits = []
    with pytest.raises(InputError, match="no classifier logits"):
        Stage2Loss(LossConfig(w_id=1.0))(out, LABELS, torch.randn(3, 5), 10.0)


def test_stage2_with_every_weight_zero_is_a_config_error():
    with pytest.raises(ConfigError, match="nothing would train"):
        Stage2Loss(LossConfig(w_i2t_ce=0.0, w_xm_triplet=0.0, w_id=0.0, w_triplet=0.0))


@pytest.mark.parametrize(
    "field, value",
    [("temperature", 0.0), ("lambda_con", -1.0), ("w_triplet", -0.5), ("label_smoothing", 1.0), ("xm_margin", -0.1)],
)
def test_invalid_loss_settings_name_the_config_key(field, value):
    cfg = replace(LossConfig(), **{field: value})
    for objective in (Stage1Loss, Stage2Loss):
        with pytest.raises(ConfigError, match=f"loss.{field}"):
            objective(cfg)
