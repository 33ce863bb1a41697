"""Stage-2 cross-modal triplet loss (paper sec. 3.5.2, eqs. 18-19), distances as 1 - cosine."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from scing_core.errors import InputError
from scing_core.losses._common import (
    check_features,
    check_labels,
    check_same_width,
    full_precision,
    masked_mean,
)

_WHERE = "xm_triplet_loss"


def xm_triplet_loss(
    image_feats: torch.Tensor,
    text_positives: torch.Tensor,
    labels: torch.Tensor,
    margin: float = 0.2,
) -> torch.Tensor:
    r"""Cross-modal triplet: the identity's text prototype is the positive, the hardest in-batch image the negative.

    ``image_feats [B, E]`` are the images f_b, ``text_positives [B, E]`` the prototype of each
    image's own identity (``prototypes[labels]``). With ``d(x, y) = 1 - cos(x, y)``::

        n(b) = argmin_{j : y_j != y_b} d(f_b, f_j)                    (eq. 19: hardest negative)
        l(b) = max(d(f_b, w_{y_b}) - d(f_b, f_{n(b)}) + margin, 0)    (eq. 18)
        L    = mean of l(b) over the anchors that have a negative in the batch

    Anchors whose identity fills the whole batch have no negative and are excluded; if none has
    one, the loss is 0 and still part of the graph. Computed in float32 with autocast disabled.
    """
    with full_precision(image_feats.device):
        image_feats = check_features("image_feats", image_feats, _WHERE)
        text_positives = check_features("text_positives", text_positives, _WHERE)
        check_same_width(("image_feats", image_feats), ("text_positives", text_positives), _WHERE)
        if text_positives.shape[0] != image_feats.shape[0]:
            raise InputError(
                f"{_WHERE}: `text_positives` has {text_positives.shape[0]} rows but `image_feats` has "
                f"{image_feats.shape[0]}; pass prototypes[labels], one prototype per image"
            )
        labels = check_labels("labels", labels, image_feats.shape[0], image_feats.device, _WHERE)

        images = F.normalize(image_feats, dim=1)
        positive_distance = 1.0 - (images * F.normalize(text_positives, dim=1)).sum(dim=1)
        image_distance = 1.0 - images @ images.t()
        other_identity = labels[:, None] != labels[None, :]
        hardest_negative = image_distance.masked_fill(~other_identity, float("inf")).amin(dim=1)
        has_negative = other_identity.any(dim=1)
        # A finite stand-in for anchors without a negative keeps inf out of the arithmetic.
        hardest_negative = torch.where(has_negative, hardest_negative, positive_distance.detach())
        per_anchor = F.relu(positive_distance - hardest_negative + margin)
        return masked_mean(per_anchor, has_negative)
