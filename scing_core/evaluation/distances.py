"""Query-gallery distances on L2-normalised features, computed in batches of queries.

``compute_distance`` returns a float32 **torch tensor** on the features' device (CPU for numpy
input); call ``.cpu().numpy()`` for an array. Features are L2-normalised first (``normalize=True``)
so that, as at inference time in CLIP-ReID and in this project, both metrics rank identically:

- ``cosine``: ``1 - <q, g>`` in [0, 2];
- ``euclidean``: ``||q - g||`` (not squared), which is ``sqrt(2 - 2 <q, g>)`` in [0, 2] on unit
  vectors.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from scing_core.errors import InputError

METRICS = ("cosine", "euclidean")


def as_feature_tensor(features: Any, name: str, keep_float64: bool = False) -> torch.Tensor:
    """Check a (N, D) feature matrix (numpy or torch) and return it as a float32 tensor (same device).

    With ``keep_float64``, float64 features stay float64.
    """
    if isinstance(features, np.ndarray):
        features = torch.from_numpy(features)
    if not isinstance(features, torch.Tensor):
        raise InputError(f"{name}: expected a (N, D) numpy array or torch tensor, got {type(features).__name__}")
    if features.ndim != 2:
        raise InputError(f"{name}: expected a 2-D (N, D) feature matrix, got shape {tuple(features.shape)}")
    if features.shape[0] == 0 or features.shape[1] == 0:
        raise InputError(f"{name}: the feature matrix is empty (shape {tuple(features.shape)})")
    if not (features.is_floating_point() or features.dtype in (torch.int32, torch.int64)):
        raise InputError(f"{name}: expected real-valued features, got dtype {features.dtype}")
    keep = keep_float64 and features.dtype == torch.float64
    features = features.detach().to(torch.float64 if keep else torch.float32)
    if not bool(torch.isfinite(features).all()):
        raise InputError(f"{name}: the features contain NaN or inf; check the model's outputs")
    return features


def l2_normalize(features: torch.Tensor) -> torch.Tensor:
    """Rows scaled to unit length (an all-zero row stays zero)."""
    return F.normalize(features, p=2, dim=1)


def compute_distance(qf: Any, gf: Any, metric: str = "cosine", batch_size: int = 1024,
                     normalize: bool = True) -> torch.Tensor:
    """(num_query, num_gallery) float32 distances between query and gallery features.

    Args:
        qf, gf: (N, D) features (numpy or torch; both on the same device). Not modified.
        metric: ``"cosine"`` or ``"euclidean"`` (see module doc).
        batch_size: queries per matrix product; bounds the temporary memory to
            ``batch_size x num_gallery`` floats beyond the output.
        normalize: L2-normalise the features first (default). With False, ``euclidean`` is the
            plain Euclidean distance and ``cosine`` is ``1 - <q, g>`` (right for unit vectors only).

    Returns:
        A float32 torch tensor on the features' device.
    """
    if metric not in METRICS:
        raise InputError(f"metric: unknown distance '{metric}'; use one of {', '.join(METRICS)}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InputError(f"batch_size: expected a positive integer, got {batch_size!r}")
    queries, gallery = as_feature_tensor(qf, "qf"), as_feature_tensor(gf, "gf")
    if queries.shape[1] != gallery.shape[1]:
        raise InputError(f"qf has {queries.shape[1]} feature dimensions but gf has {gallery.shape[1]}; "
                         "extract both with the same model")
    if queries.device != gallery.device:
        raise InputError(f"qf is on {queries.device} but gf on {gallery.device}; move both to one device")
    if normalize:
        queries, gallery = l2_normalize(queries), l2_normalize(gallery)
    out = torch.empty((queries.shape[0], gallery.shape[0]), dtype=torch.float32, device=queries.device)
    gallery_norms = gallery.pow(2).sum(dim=1)[None, :]
    for start in range(0, queries.shape[0], batch_size):
        batch = queries[start:start + batch_size]
        block = out[start:start + batch_size]
        torch.matmul(batch, gallery.T, out=block)
        if metric == "cosine":
            block.neg_().add_(1.0)
        else:  # ||q||^2 + ||g||^2 - 2 <q, g>, which is 2 - 2 <q, g> on unit vectors
            block.mul_(-2.0).add_(gallery_norms).add_(batch.pow(2).sum(dim=1, keepdim=True))
            block.clamp_(min=0.0).sqrt_()
    return out
