"""Label-smoothed cross-entropy: CLIP-ReID's identity (ID) loss on the classifier logits."""

from __future__ import annotations

import torch

from scing_core.errors import InputError
from scing_core.losses._common import check_features, check_labels, full_precision

_WHERE = "label_smoothed_ce_loss"


def label_smoothed_ce_loss(logits: torch.Tensor, labels: torch.Tensor, epsilon: float = 0.1) -> torch.Tensor:
    r"""Cross-entropy of ``logits [B, C]`` against labels smoothed by ``epsilon``.

    The target spreads ``epsilon`` uniformly over all C classes (the true one included), as
    CLIP-ReID's ``CrossEntropyLabelSmooth``::

        q_bc = (1 - epsilon) * [c == y_b] + epsilon / C
        L    = - 1/B * sum_b sum_c q_bc * log softmax(logits_b)_c

    ``epsilon = 0`` is the plain cross-entropy. Computed in float32 with autocast disabled.
    """
    if not 0.0 <= epsilon < 1.0:
        raise InputError(f"{_WHERE}: `epsilon` (loss.label_smoothing) must be in [0, 1), got {epsilon!r}")
    with full_precision(logits.device):
        logits = check_features("logits", logits, _WHERE)
        labels = check_labels("labels", labels, logits.shape[0], logits.device, _WHERE)
        log_prob = torch.log_softmax(logits, dim=1)
        num_classes = logits.shape[1]
        target = torch.full_like(log_prob, epsilon / num_classes)
        target.scatter_add_(1, labels[:, None], torch.full_like(log_prob[:, :1], 1.0 - epsilon))
        return -(target * log_prob).sum(dim=1).mean()
