"""Cross-modal triplet loss (paper eqs. 18-19, distances as 1 - cosine)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from scing_core.errors import InputError
from scing_core.losses import xm_triplet_loss


def reference_xm_triplet(images, positives, labels, margin):
    """Plain loop: cosine distance to the own prototype minus the nearest other-identity image."""
    def dist(x, y):
        return 1 - float(x @ y) / (np.linalg.norm(x) * np.linalg.norm(y))

    per_anchor = []
    for b in range(len(images)):
        negatives = [dist(images[b], images[j]) for j in range(len(images)) if labels[j] != labels[b]]
        if negatives:
            per_anchor.append(max(dist(images[b], positives[b]) - min(negatives) + margin, 0.0))
    return sum(per_anchor) / len(per_anchor)


def test_matches_hand_value():
    images = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    positives = torch.tensor([[0.6, 0.8], [0.0, 1.0], [0.0, 1.0]])
    labels = torch.tensor([0, 1, 1])
    # anchor 0: d_pos 0.4, hardest negative image 2 at 1 - 1/sqrt2 -> 0.4 - 0.2929 + 0.2
    # anchor 1: d_pos 0, negative at 1 -> 0;  anchor 2: d_pos = d_neg = 1 - 1/sqrt2 -> 0.2
    close = 1 - 1 / math.sqrt(2)
    expected = ((0.4 - close + 0.2) + 0.0 + 0.2) / 3
    assert xm_triplet_loss(images, positives, labels, margin=0.2).item() == pytest.approx(expected, abs=1e-6)


def test_matches_loop_reference():
    rng = np.random.default_rng(3)
    images, positives, labels = rng.normal(size=(6, 4)), rng.normal(size=(6, 4)), [0, 0, 1, 1, 2, 2]
    loss = xm_triplet_loss(torch.tensor(images), torch.tensor(positives), torch.tensor(labels), margin=0.5)
    assert loss.item() == pytest.approx(reference_xm_triplet(images, positives, labels, 0.5), abs=1e-6)


def test_picks_the_hardest_negative_image():
    # Only anchor 0 violates the margin; its negatives are image 1 (distance 1) and image 2 (0.4).
    images = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]], requires_grad=True)
    positives = torch.tensor([[0.0, 1.0], [0.0, 1.0], [0.6, 0.8]])
    loss = xm_triplet_loss(images, positives, torch.tensor([0, 1, 1]), margin=0.2)
    assert loss.item() == pytest.approx((1.0 - 0.4 + 0.2) / 3, abs=1e-6)  # the easy one would give 0.2 / 3
    loss.backward()
    assert images.grad[2].abs().sum() > 0
    assert torch.all(images.grad[1] == 0)


def test_single_identity_batch_has_no_negative_and_gives_zero():
    images = torch.randn(3, 2, requires_grad=True)
    loss = xm_triplet_loss(images, torch.randn(3, 2), torch.tensor([1, 1, 1]))
    loss.backward()
    assert loss.item() == 0.0 and torch.isfinite(images.grad).all()


def test_gradients_reach_the_images():
    images = torch.randn(4, 3, requires_grad=True)
    xm_triplet_loss(images, torch.randn(4, 3), torch.tensor([0, 0, 1, 1]), margin=2.0).backward()
    assert images.grad.abs().sum() > 0


def test_one_positive_per_image_is_required():
    with pytest.raises(InputError, match="prototypes\\[labels\\]"):
        xm_triplet_loss(torch.randn(3, 2), torch.randn(5, 2), torch.tensor([0, 1, 2]))
