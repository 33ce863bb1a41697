"""Supervised contrastive loss (stage-1 i2t / t2i): hand values, a loop reference, properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from scing_core.errors import InputError
from scing_core.losses import supcon_loss


def reference_supcon(anchors, contrast, anchor_labels, contrast_labels, scale, temperature):
    """Plain loop over anchors and positives, straight from the formula."""
    a = anchors / np.linalg.norm(anchors, axis=1, keepdims=True)
    c = contrast / np.linalg.norm(contrast, axis=1, keepdims=True)
    per_anchor = []
    for i in range(len(a)):
        logits = [scale * float(a[i] @ c[j]) / temperature for j in range(len(c))]
        log_z = math.log(sum(math.exp(z) for z in logits))
        positives = [j for j in range(len(c)) if contrast_labels[j] == anchor_labels[i]]
        if positives:
            per_anchor.append(-sum(logits[j] - log_z for j in positives) / len(positives))
    return sum(per_anchor) / len(per_anchor)


def test_one_positive_each_matches_hand_value():
    anchors = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    contrast = torch.tensor([[3.0, 0.0], [0.0, 1.0]])  # norms differ: only directions count
    labels = torch.tensor([0, 1])
    loss = supcon_loss(anchors, contrast, labels, labels, logit_scale=1.0)
    # each anchor: cosines [1, 0] -> -log(e / (e + 1))
    assert loss.item() == pytest.approx(math.log(1 + math.e) - 1, abs=1e-6)


def test_several_positives_average_their_log_probabilities():
    anchors = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    contrast = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    loss = supcon_loss(anchors, contrast, torch.tensor([0, 1]), torch.tensor([0, 1, 0]), logit_scale=1.0)
    # anchor 0: cosines [1, 0, -1], positives 0 and 2 -> mean log p = (1 - 1)/2 - log Z0 = -log Z0
    log_z0 = math.log(math.e + 1 + math.exp(-1))
    # anchor 1: cosines [0, 1, 0], positive 1 -> 1 - log(2 + e)
    expected = (log_z0 + (math.log(2 + math.e) - 1)) / 2
    assert loss.item() == pytest.approx(expected, abs=1e-6)


def test_matches_loop_reference_with_scale_and_temperature():
    rng = np.random.default_rng(0)
    anchors, contrast = rng.normal(size=(4, 3)), rng.normal(size=(3, 3))
    anchor_labels, contrast_labels = [0, 1, 1, 2], [1, 0, 1]
    loss = supcon_loss(
        torch.tensor(anchors), torch.tensor(contrast), torch.tensor(anchor_labels), torch.tensor(contrast_labels),
        logit_scale=5.0, temperature=0.5,
    )
    expected = reference_supcon(anchors, contrast, anchor_labels, contrast_labels, 5.0, 0.5)
    assert loss.item() == pytest.approx(expected, rel=1e-5)


def test_anchors_without_positives_are_excluded_from_the_mean():
    anchors = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    contrast = torch.tensor([[3.0, 0.0], [0.0, 1.0]])
    labels = torch.tensor([0, 1])
    base = supcon_loss(anchors, contrast, labels, labels, logit_scale=1.0)
    with_orphan = supcon_loss(
        torch.cat([anchors, torch.tensor([[1.0, 1.0]])]), contrast, torch.tensor([0, 1, 7]), labels, logit_scale=1.0
    )
    assert with_orphan.item() == pytest.approx(base.item(), abs=1e-7)


def test_no_anchor_with_a_positive_gives_zero_that_still_backpropagates():
    anchors = torch.randn(2, 3, requires_grad=True)
    loss = supcon_loss(anchors, torch.randn(2, 3), torch.tensor([0, 1]), torch.tensor([2, 3]), logit_scale=10.0)
    loss.backward()
    assert loss.item() == 0.0
    assert torch.isfinite(anchors.grad).all()


def test_loss_is_lower_when_matching_pairs_are_aligned():
    labels = torch.tensor([0, 1, 2])
    images = torch.eye(3)
    aligned = supcon_loss(images, torch.eye(3), labels, labels, logit_scale=10.0)
    shuffled = supcon_loss(images, torch.eye(3)[[1, 2, 0]], labels, labels, logit_scale=10.0)
    assert aligned.item() < shuffled.item()


def test_gradients_reach_both_sides_and_a_tensor_scale():
    anchors = torch.randn(4, 3, requires_grad=True)
    contrast = torch.randn(4, 3, requires_grad=True)
    scale = torch.tensor(20.0, requires_grad=True)
    labels = torch.tensor([0, 0, 1, 1])
    supcon_loss(anchors, contrast, labels, labels, scale).backward()
    for grad in (anchors.grad, contrast.grad, scale.grad):
        assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"contrast": torch.randn(2, 4)}, "width"),
        ({"anchor_labels": torch.tensor([0, 1, 2])}, "one label per feature row"),
        ({"anchors": torch.randn(2, 3, 1)}, r"shape \[N, E\]"),
        ({"temperature": 0.0}, "temperature"),
        ({"logit_scale": -1.0}, "logit_scale"),
    ],
)
def test_malformed_inputs_raise_an_input_error_naming_the_problem(kwargs, message):
    args = {
        "anchors": torch.randn(2, 3), "contrast": torch.randn(2, 3), "anchor_labels": torch.tensor([0, 1]),
        "contrast_labels": torch.tensor([0, 1]), "logit_scale": 1.0,
    }
    args.update(kwargs)
    with pytest.raises(InputError, match=message):
        supcon_loss(**args)


def official_supcon(text_features, image_features, t_label, i_targets, temperature=1.0):
    """CLIP-ReID's loss/supcontrast.py SupConLoss.forward, restated line by line: the mask of equal labels,
    raw dot products over the temperature, max-shifted, log-softmax, the mean log-probability of the
    positives, negated and averaged over the anchors."""
    mask = torch.eq(t_label.unsqueeze(1).expand(len(t_label), len(i_targets)),
                    i_targets.unsqueeze(0).expand(len(t_label), len(i_targets))).float()
    anchor_dot_contrast = torch.div(torch.matmul(text_features, image_features.T), temperature)
    logits_max, _ = torch.max(anchor_dot_contrast, dim=1, keepdim=True)
    logits = anchor_dot_contrast - logits_max.detach()
    log_prob = logits - torch.log(torch.exp(logits).sum(1, keepdim=True))
    mean_log_prob_pos = (mask * log_prob).sum(1) / mask.sum(1)
    return -mean_log_prob_pos.mean()


@pytest.mark.parametrize("temperature", [1.0, 0.5])
def test_dot_similarity_is_clip_reids_official_supcon_on_the_same_tensors(temperature):
    """Stage 1 of the official recipe: loss = xent(image, text, y, y) + xent(text, image, y, y), raw features."""
    torch.manual_seed(3)
    image, text = torch.randn(8, 6) * 3, torch.randn(8, 6) * 2
    labels = torch.tensor([0, 0, 1, 1, 2, 2, 3, 3])
    ours = (supcon_loss(image, text, labels, labels, 1.0, temperature, similarity="dot")
            + supcon_loss(text, image, labels, labels, 1.0, temperature, similarity="dot"))
    official = official_supcon(image, text, labels, labels, temperature) + official_supcon(text, image, labels, labels,
                                                                                            temperature)
    assert ours.item() == pytest.approx(official.item(), rel=1e-6)
