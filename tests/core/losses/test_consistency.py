"""PDCA consistency loss L_con (paper eq. 14)."""

from __future__ import annotations

import math

import pytest
import torch

from scing_core.errors import InputError
from scing_core.losses import consistency_loss


def test_matches_hand_value_over_a_batch():
    w = torch.tensor([[1.0, 0.0], [2.0, 0.0]])
    w1 = torch.tensor([[0.0, 1.0], [3.0, 0.0]])
    w2 = torch.tensor([[1.0, 1.0], [0.0, -1.0]])
    # row 0: cosines 0, 1/sqrt2, 1/sqrt2; row 1: cosines 1, 0, 0
    row_means = [(0 + 2 / math.sqrt(2)) / 3, (1 + 0 + 0) / 3]
    expected = 1 - sum(row_means) / 2
    assert consistency_loss(w, w1, w2).item() == pytest.approx(expected, abs=1e-6)


def test_identical_features_give_zero():
    w = torch.randn(5, 4)
    assert consistency_loss(w, w.clone(), 3.0 * w).item() == pytest.approx(0.0, abs=1e-6)


def test_mutually_orthogonal_features_give_one():
    eye = torch.eye(3)
    assert consistency_loss(eye[[0]], eye[[1]], eye[[2]]).item() == pytest.approx(1.0, abs=1e-6)


def test_gradients_reach_all_three_views():
    views = [torch.randn(3, 4, requires_grad=True) for _ in range(3)]
    consistency_loss(*views).backward()
    assert all(v.grad is not None and v.grad.abs().sum() > 0 for v in views)


def test_views_of_different_shapes_raise_an_input_error():
    with pytest.raises(InputError, match="same shape"):
        consistency_loss(torch.randn(3, 4), torch.randn(2, 4), torch.randn(3, 4))
