"""Losses compute in float32 even when called inside a low-precision autocast region."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from scing_core.losses import i2t_ce_loss, supcon_loss, xm_triplet_loss


@pytest.fixture()
def features():
    generator = torch.Generator().manual_seed(5)
    images = torch.randn(32, 64, generator=generator)
    texts = torch.randn(32, 64, generator=generator)
    labels = torch.arange(8).repeat_interleave(4)
    return images, texts, labels


def test_supcon_inside_bf16_autocast_equals_the_float32_value(features):
    images, texts, labels = features
    reference = supcon_loss(images, texts, labels, labels, 100.0).item()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        inside = supcon_loss(images, texts, labels, labels, 100.0)
        bf16_cosine = F.normalize(images, dim=1) @ F.normalize(texts, dim=1).t()
    assert bf16_cosine.dtype == torch.bfloat16  # autocast really was active in that block
    unguarded = -(torch.log_softmax(100.0 * bf16_cosine.float(), dim=1)[labels[:, None] == labels[None, :]]).mean()
    assert abs(unguarded.item() - reference) > 1e-3  # so the check below can tell the difference
    assert inside.dtype == torch.float32
    assert inside.item() == pytest.approx(reference, rel=1e-6)


def test_bf16_inputs_are_promoted_and_the_result_is_float32(features):
    images, texts, labels = features
    images16, prototypes16 = images.bfloat16(), texts[::4].bfloat16()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        ce = i2t_ce_loss(images16, prototypes16, labels, 100.0)
        xm = xm_triplet_loss(images16, prototypes16[labels], labels)
    expected_ce = i2t_ce_loss(images16.float(), prototypes16.float(), labels, 100.0)
    expected_xm = xm_triplet_loss(images16.float(), prototypes16[labels].float(), labels)
    assert ce.dtype == xm.dtype == torch.float32
    assert ce.item() == pytest.approx(expected_ce.item(), rel=1e-6)
    assert xm.item() == pytest.approx(expected_xm.item(), rel=1e-6)
