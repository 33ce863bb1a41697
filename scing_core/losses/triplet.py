"""Batch-hard triplet loss on Euclidean distances (CLIP-ReID's / TransReID's ``TripletLoss``)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from scing_core.losses._common import check_features, check_labels, full_precision, masked_mean

_WHERE = "batch_hard_triplet_loss"


def pairwise_euclidean(features: torch.Tensor) -> torch.Tensor:
    """Euclidean distances ``[N, N]`` between the rows of ``features [N, E]``.

    Uses ``|x|^2 + |y|^2 - 2 x.y`` (one matmul); the diagonal is exactly 0 and squared distances
    are clamped at 1e-12 before the square root, so no gradient is infinite.
    """
    squared_norm = (features * features).sum(dim=1)
    squared = squared_norm[:, None] + squared_norm[None, :] - 2.0 * (features @ features.t())
    diagonal = torch.eye(features.shape[0], dtype=torch.bool, device=features.device)
    squared = squared.masked_fill(diagonal, 0.0)
    return squared.clamp_min(1e-12).sqrt()


def batch_hard_triplet_loss(features: torch.Tensor, labels: torch.Tensor, margin: float = 0.3) -> torch.Tensor:
    r"""Batch-hard triplet loss of ``features [B, E]`` with identity ``labels [B]``.

    With Euclidean distances ``d`` between the raw (not normalised) features, for each anchor i::

        d_ap(i) = max_{j : y_j == y_i} d(i, j)      (hardest positive; the anchor itself counts)
        d_an(i) = min_{j : y_j != y_i} d(i, j)      (hardest negative)
        l(i)    = max(0, d_ap(i) - d_an(i) + margin)          if margin > 0
                  log(1 + exp(d_ap(i) - d_an(i)))            if margin <= 0 (soft margin)
        L       = mean of l(i) over the anchors that have a negative in the batch

    The hinge is ``nn.MarginRankingLoss(margin)(d_an, d_ap, 1)``; the soft margin is
    ``nn.SoftMarginLoss()(d_an - d_ap, 1)``. If no anchor has a negative (a single identity in
    the batch), the loss is 0 and still part of the graph. Computed in float32, autocast disabled.
    """
    with full_precision(features.device):
        features = check_features("features", features, _WHERE)
        labels = check_labels("labels", labels, features.shape[0], features.device, _WHERE)
        distance = pairwise_euclidean(features)
        same = labels[:, None] == labels[None, :]
        hardest_positive = distance.masked_fill(~same, float("-inf")).amax(dim=1)
        hardest_negative = distance.masked_fill(same, float("inf")).amin(dim=1)
        has_negative = (~same).any(dim=1)
        # Anchors without a negative get a finite stand-in so no inf reaches the arithmetic below.
        hardest_negative = torch.where(has_negative, hardest_negative, hardest_positive.detach())
        gap = hardest_positive - hardest_negative
        per_anchor = F.relu(gap + margin) if margin > 0 else F.softplus(gap)
        return masked_mean(per_anchor, has_negative)
