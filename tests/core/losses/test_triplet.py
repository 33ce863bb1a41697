"""Batch-hard triplet loss on Euclidean distances."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from scing_core.losses import batch_hard_triplet_loss, pairwise_euclidean

# Points on a line: identity 0 at x = 0 and 1, identity 1 at x = 3 and 5.
POINTS = torch.tensor([[0.0, 0.0], [1.0, 0.0], [3.0, 0.0], [5.0, 0.0]])
LABELS = torch.tensor([0, 0, 1, 1])


def hardest_distances_by_loop(features, labels):
    """(d_ap, d_an) per anchor from plain Python loops."""
    n = len(features)
    dist = [[float(np.linalg.norm(features[i] - features[j])) for j in range(n)] for i in range(n)]
    d_ap = [max(dist[i][j] for j in range(n) if labels[j] == labels[i]) for i in range(n)]
    d_an = [min(dist[i][j] for j in range(n) if labels[j] != labels[i]) for i in range(n)]
    return d_ap, d_an


def test_hinge_matches_hand_value():
    # (d_ap, d_an) per anchor: (1, 3), (1, 2), (2, 2), (2, 4) -> only anchor 2 violates: 0.3
    loss = batch_hard_triplet_loss(POINTS, LABELS, margin=0.3)
    assert loss.item() == pytest.approx(0.3 / 4, abs=1e-6)


def test_soft_margin_when_margin_is_not_positive():
    gaps = [1 - 3, 1 - 2, 2 - 2, 2 - 4]
    expected = sum(math.log1p(math.exp(g)) for g in gaps) / 4
    assert batch_hard_triplet_loss(POINTS, LABELS, margin=0.0).item() == pytest.approx(expected, abs=1e-6)


def test_equals_margin_ranking_loss_on_loop_hardest_distances():
    rng = np.random.default_rng(1)
    features, labels = rng.normal(size=(6, 3)), [0, 0, 1, 1, 2, 2]
    d_ap, d_an = hardest_distances_by_loop(features, labels)
    expected = nn.MarginRankingLoss(margin=0.3)(torch.tensor(d_an), torch.tensor(d_ap), torch.ones(6))
    loss = batch_hard_triplet_loss(torch.tensor(features), torch.tensor(labels), margin=0.3)
    assert loss.item() == pytest.approx(expected.item(), abs=1e-5)


def test_zero_when_identities_are_well_separated():
    features = torch.tensor([[0.0, 0.0], [0.1, 0.0], [10.0, 0.0], [10.0, 0.1]])
    assert batch_hard_triplet_loss(features, LABELS, margin=0.3).item() == 0.0


def test_pairwise_euclidean_matches_cdist_with_exact_zero_diagonal():
    features = torch.randn(5, 4)
    dist = pairwise_euclidean(features)
    assert torch.allclose(dist, torch.cdist(features, features), atol=1e-5)
    assert torch.all(dist.diagonal() <= 1e-6)


def test_duplicate_features_give_finite_gradients():
    features = torch.tensor([[1.0, 2.0], [1.0, 2.0], [1.5, 2.0], [1.5, 2.0]], requires_grad=True)
    # every hardest positive sits at distance 0 (its duplicate); margin 1 keeps the hinge active
    batch_hard_triplet_loss(features, LABELS, margin=1.0).backward()
    assert torch.isfinite(features.grad).all() and features.grad.abs().sum() > 0


def test_single_identity_batch_gives_zero_that_still_backpropagates():
    features = torch.randn(3, 2, requires_grad=True)
    loss = batch_hard_triplet_loss(features, torch.tensor([4, 4, 4]))
    loss.backward()
    assert loss.item() == 0.0 and torch.isfinite(features.grad).all()
