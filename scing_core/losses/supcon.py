"""Supervised contrastive loss between two feature sets (CLIP-ReID's stage-1 i2t / t2i loss)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from scing_core.config.checks import CHOICES
from scing_core.errors import InputError
from scing_core.losses._common import (
    as_scale,
    check_features,
    check_labels,
    check_same_width,
    full_precision,
    masked_mean,
)

_WHERE = "supcon_loss"
SIMILARITIES = CHOICES["loss.supcon_similarity"]


def supcon_loss(
    anchors: torch.Tensor,
    contrast: torch.Tensor,
    anchor_labels: torch.Tensor,
    contrast_labels: torch.Tensor,
    logit_scale: float | torch.Tensor,
    temperature: float = 1.0,
    similarity: str = "cosine",
) -> torch.Tensor:
    r"""Supervised contrastive loss of ``anchors [B, E]`` against ``contrast [N, E]``.

    Every contrast row with the anchor's identity label is a positive. With ``similarity="cosine"``
    (the paper's eq. 1), ``a_i`` and ``c_j`` L2-normalised and ``s = logit_scale / temperature``::

        z_ij     = s * cos(a_i, c_j)
        log p_ij = z_ij - log sum_n exp(z_in)
        P(i)     = { j : contrast_labels[j] == anchor_labels[i] }
        A        = { i : |P(i)| > 0 }
        L        = - 1/|A| * sum_{i in A} 1/|P(i)| * sum_{j in P(i)} log p_ij

    With ``similarity="dot"`` (CLIP-ReID's ``SupConLoss``), ``z_ij = (a_i . c_j) / temperature`` on
    the raw features and ``logit_scale`` is not used.

    i2t is ``supcon_loss(images, texts, ...)``, t2i is ``supcon_loss(texts, images, ...)``.

    Anchors whose label appears nowhere in ``contrast`` have no positive; they are excluded from
    the mean (they would otherwise contribute 0/0). If no anchor has a positive, the loss is 0 and
    still part of the graph, so ``backward()`` works.

    ``logit_scale`` is the multiplier itself (CLIP's ``logit_scale.exp()``, 100 for OpenAI
    weights), a float or a scalar tensor (a tensor lets gradients reach it). Computed in float32
    with autocast disabled.
    """
    if not temperature > 0:
        raise InputError(f"{_WHERE}: `temperature` must be > 0, got {temperature!r}")
    if similarity not in SIMILARITIES:
        raise InputError(f"{_WHERE}: `similarity` must be one of {', '.join(SIMILARITIES)}, got {similarity!r}")
    with full_precision(anchors.device):
        anchors = check_features("anchors", anchors, _WHERE)
        contrast = check_features("contrast", contrast, _WHERE)
        check_same_width(("anchors", anchors), ("contrast", contrast), _WHERE)
        anchor_labels = check_labels("anchor_labels", anchor_labels, anchors.shape[0], anchors.device, _WHERE)
        contrast_labels = check_labels("contrast_labels", contrast_labels, contrast.shape[0], anchors.device, _WHERE)
        if similarity == "dot":
            logits = anchors @ contrast.t() / temperature
        else:
            scale = as_scale(logit_scale, anchors.device, _WHERE)
            logits = F.normalize(anchors, dim=1) @ F.normalize(contrast, dim=1).t() * scale / temperature
        log_prob = torch.log_softmax(logits, dim=1)
        positive = (anchor_labels[:, None] == contrast_labels[None, :]).to(log_prob.dtype)
        positives_per_anchor = positive.sum(dim=1)
        mean_log_prob_pos = (positive * log_prob).sum(dim=1) / positives_per_anchor.clamp_min(1)
        return -masked_mean(mean_log_prob_pos, positives_per_anchor > 0)
