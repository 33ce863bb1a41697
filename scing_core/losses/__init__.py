"""Losses, one per file, and the per-stage objectives that weight them from ``LossConfig``.

Stage 1 (prompts): :func:`supcon_loss` both ways + ``lambda_con`` * :func:`consistency_loss`.
Stage 2 (image encoder): :func:`i2t_ce_loss` + gamma * :func:`xm_triplet_loss`, with CLIP-ReID's
:func:`label_smoothed_ce_loss` and :func:`batch_hard_triplet_loss` as switches.
Every loss computes in float32 with autocast disabled and returns a scalar tensor.
"""

from scing_core.losses.builder import Stage1Loss, Stage2Loss
from scing_core.losses.consistency import consistency_loss
from scing_core.losses.cross_entropy import label_smoothed_ce_loss
from scing_core.losses.i2t_ce import i2t_ce_loss
from scing_core.losses.supcon import supcon_loss
from scing_core.losses.triplet import batch_hard_triplet_loss, pairwise_euclidean
from scing_core.losses.xm_triplet import xm_triplet_loss

__all__ = [
    "Stage1Loss",
    "Stage2Loss",
    "batch_hard_triplet_loss",
    "consistency_loss",
    "i2t_ce_loss",
    "label_smoothed_ce_loss",
    "pairwise_euclidean",
    "supcon_loss",
    "xm_triplet_loss",
]
