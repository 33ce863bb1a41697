"""Stage-2 image-to-text cross-entropy over all class prototypes (paper sec. 3.5.2, eq. 17)."""

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
)

_WHERE = "i2t_ce_loss"
SIMILARITIES = CHOICES["loss.i2t_similarity"]


def i2t_ce_loss(
    image_feats: torch.Tensor,
    prototypes: torch.Tensor,
    labels: torch.Tensor,
    logit_scale: float | torch.Tensor,
    similarity: str = "cosine",
    label_smoothing: float = 0.0,
) -> torch.Tensor:
    r"""Cross-entropy of image features ``[B, E]`` against all class prototypes ``[C, E]``.

    ``similarity="cosine"`` (the paper's eq. 17), with ``f_b`` and ``w_c`` L2-normalised and
    ``s = logit_scale``::

        z_bc = s * cos(f_b, w_c)
        L    = - 1/B * sum_b sum_c q_bc log softmax(z_b)_c,   q_bc = (1 - eps) [c == y_b] + eps / C

    Eq. 17 writes ``<F_v(I), w>`` with ``<., .>`` the cosine of eq. 1; like CLIP, the project scales
    it (the stage-2 builder passes ``loss.i2t_logit_scale`` when > 0, else the CLIP model's
    ``logit_scale.exp()``). ``similarity="dot"`` is CLIP-ReID's ``image_features @ text_features.t()``
    on the raw features (``logit_scale`` unused). ``label_smoothing`` = eps (CLIP-ReID: 0.1; eq. 17:
    0). Labels index the rows of ``prototypes``; their values are not checked here (reading them
    would synchronise the GPU). Computed in float32 with autocast disabled.
    """
    if similarity not in SIMILARITIES:
        raise InputError(f"{_WHERE}: `similarity` must be one of {', '.join(SIMILARITIES)}, got {similarity!r}")
    with full_precision(image_feats.device):
        image_feats = check_features("image_feats", image_feats, _WHERE)
        prototypes = check_features("prototypes", prototypes, _WHERE)
        check_same_width(("image_feats", image_feats), ("prototypes", prototypes), _WHERE)
        labels = check_labels("labels", labels, image_feats.shape[0], image_feats.device, _WHERE)
        if similarity == "dot":
            logits = image_feats @ prototypes.t()
        else:
            scale = as_scale(logit_scale, image_feats.device, _WHERE)
            logits = F.normalize(image_feats, dim=1) @ F.normalize(prototypes, dim=1).t() * scale
        return F.cross_entropy(logits, labels, label_smoothing=label_smoothing)
