"""Stage-2 image-to-text cross-entropy over all class prototypes (paper sec. 3.5.2, eq. 17)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from scing_core.losses._common import (
    as_scale,
    check_features,
    check_labels,
    check_same_width,
    full_precision,
)

_WHERE = "i2t_ce_loss"


def i2t_ce_loss(
    image_feats: torch.Tensor,
    prototypes: torch.Tensor,
    labels: torch.Tensor,
    logit_scale: float | torch.Tensor,
) -> torch.Tensor:
    r"""Cross-entropy of image features ``[B, E]`` against all class prototypes ``[C, E]``.

    With ``f_b`` and ``w_c`` L2-normalised and ``s = logit_scale``::

        z_bc = s * cos(f_b, w_c)
        L    = - 1/B * sum_b log( exp(z_{b, y_b}) / sum_c exp(z_bc) )

    Eq. 17 writes the inner product of the features; like CLIP, the project scales the cosine
    (the stage-2 builder passes ``loss.i2t_logit_scale`` when > 0, else the CLIP model's
    ``logit_scale.exp()``). Labels index the rows of ``prototypes``; their values are not checked
    here (reading them would synchronise the GPU), an out-of-range label fails inside
    ``cross_entropy``. Computed in float32 with autocast disabled.
    """
    with full_precision(image_feats.device):
        image_feats = check_features("image_feats", image_feats, _WHERE)
        prototypes = check_features("prototypes", prototypes, _WHERE)
        check_same_width(("image_feats", image_feats), ("prototypes", prototypes), _WHERE)
        labels = check_labels("labels", labels, image_feats.shape[0], image_feats.device, _WHERE)
        scale = as_scale(logit_scale, image_feats.device, _WHERE)
        cosine = F.normalize(image_feats, dim=1) @ F.normalize(prototypes, dim=1).t()
        return F.cross_entropy(cosine * scale, labels)
