"""Label-smoothed cross-entropy (CLIP-ReID's ID loss)."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from scing_core.errors import InputError
from scing_core.losses import label_smoothed_ce_loss


def test_matches_hand_value_with_smoothing():
    logits = torch.tensor([[1.0, 2.0, 0.0]])
    log_z = math.log(math.e + math.e**2 + 1)
    target = [0.1 / 3, 0.9 + 0.1 / 3, 0.1 / 3]
    expected = -sum(q * (z - log_z) for q, z in zip(target, [1.0, 2.0, 0.0]))
    loss = label_smoothed_ce_loss(logits, torch.tensor([1]), epsilon=0.1)
    assert loss.item() == pytest.approx(expected, abs=1e-6)


def test_averages_over_the_batch():
    logits = torch.tensor([[0.0, 0.0], [3.0, -1.0]])
    labels = torch.tensor([0, 1])
    # epsilon 0.2, C 2: targets [0.9, 0.1] / [0.1, 0.9]
    row0 = math.log(2)
    log_z1 = math.log(math.exp(3) + math.exp(-1))
    row1 = -(0.1 * (3 - log_z1) + 0.9 * (-1 - log_z1))
    loss = label_smoothed_ce_loss(logits, labels, epsilon=0.2)
    assert loss.item() == pytest.approx((row0 + row1) / 2, abs=1e-6)


def test_zero_smoothing_is_plain_cross_entropy_and_agrees_with_torch_smoothing():
    logits, labels = torch.randn(4, 5), torch.tensor([0, 4, 2, 2])
    plain = F.cross_entropy(logits, labels).item()
    assert label_smoothed_ce_loss(logits, labels, 0.0).item() == pytest.approx(plain, abs=1e-6)
    smoothed = F.cross_entropy(logits, labels, label_smoothing=0.1).item()
    assert label_smoothed_ce_loss(logits, labels, 0.1).item() == pytest.approx(smoothed, abs=1e-6)


def test_gradients_flow_to_the_logits():
    logits = torch.randn(3, 4, requires_grad=True)
    label_smoothed_ce_loss(logits, torch.tensor([0, 1, 3])).backward()
    assert logits.grad is not None and logits.grad.abs().sum() > 0


@pytest.mark.parametrize("epsilon", [-0.1, 1.0])
def test_epsilon_outside_zero_one_is_rejected(epsilon):
    with pytest.raises(InputError, match="label_smoothing"):
        label_smoothed_ce_loss(torch.randn(2, 3), torch.tensor([0, 1]), epsilon)


def test_float_labels_are_rejected():
    with pytest.raises(InputError, match="integer"):
        label_smoothed_ce_loss(torch.randn(2, 3), torch.tensor([0.0, 1.0]))
