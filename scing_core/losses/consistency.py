"""PDCA's consistency loss L_con (paper sec. 3.4.3, eq. 14)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from scing_core.errors import InputError
from scing_core.losses._common import check_features, full_precision

_WHERE = "consistency_loss"


def consistency_loss(w: torch.Tensor, w1: torch.Tensor, w2: torch.Tensor) -> torch.Tensor:
    r"""Consistency of the text features of an image and of its two perturbed views, ``[B, E]`` each.

    ::

        L_con = 1 - 1/B * sum_b [cos(w_b, w1_b) + cos(w_b, w2_b) + cos(w1_b, w2_b)] / 3

    0 when the three features of every row point the same way, 1 when they are mutually
    orthogonal, 1.5 at most (three unit vectors' pairwise cosines sum to at least -3/2).
    A zero row has cosine 0 with everything (``F.cosine_similarity`` clamps the norms).
    Computed in float32 with autocast disabled.
    """
    with full_precision(w.device):
        w = check_features("w", w, _WHERE)
        w1 = check_features("w1", w1, _WHERE)
        w2 = check_features("w2", w2, _WHERE)
        if not (w.shape == w1.shape == w2.shape):
            raise InputError(
                f"{_WHERE}: the three text features must have the same shape, got {tuple(w.shape)}, "
                f"{tuple(w1.shape)} and {tuple(w2.shape)}; pass one row per image for each view"
            )
        pairwise = F.cosine_similarity(w, w1, dim=1) + F.cosine_similarity(w, w2, dim=1)
        pairwise = pairwise + F.cosine_similarity(w1, w2, dim=1)
        return 1.0 - (pairwise / 3.0).mean()
