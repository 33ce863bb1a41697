"""Image-to-text cross-entropy over all class prototypes (paper eq. 17)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from scing_core.errors import InputError
from scing_core.losses import i2t_ce_loss

PROTOTYPES = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])


def test_matches_hand_value():
    # cosines [1, 0, -1] * 2 -> -log(e^2 / (e^2 + 1 + e^-2))
    loss = i2t_ce_loss(torch.tensor([[4.0, 0.0]]), PROTOTYPES, torch.tensor([0]), logit_scale=2.0)
    assert loss.item() == pytest.approx(math.log(math.exp(2) + 1 + math.exp(-2)) - 2, abs=1e-6)


def test_matches_loop_reference_on_a_batch():
    rng = np.random.default_rng(2)
    images, prototypes, labels = rng.normal(size=(4, 3)), rng.normal(size=(5, 3)), [0, 3, 3, 4]
    total = 0.0
    for image, label in zip(images, labels):
        logits = [10.0 * image @ p / (np.linalg.norm(image) * np.linalg.norm(p)) for p in prototypes]
        total += math.log(sum(math.exp(z) for z in logits)) - logits[label]
    loss = i2t_ce_loss(torch.tensor(images), torch.tensor(prototypes), torch.tensor(labels), 10.0)
    assert loss.item() == pytest.approx(total / 4, rel=1e-5)


def test_gradients_reach_images_but_the_prototypes_may_stay_frozen():
    images = torch.randn(3, 2, requires_grad=True)
    i2t_ce_loss(images, PROTOTYPES, torch.tensor([0, 1, 2]), torch.tensor(5.0)).backward()
    assert images.grad is not None and images.grad.abs().sum() > 0


def test_prototypes_of_another_width_raise_an_input_error():
    with pytest.raises(InputError, match="same embedding space"):
        i2t_ce_loss(torch.randn(2, 3), PROTOTYPES, torch.tensor([0, 1]), 1.0)
