"""Top-k gallery search for each query: brute force (torch), exact FAISS, or approximate FAISS IVF.

All methods work on L2-normalised features (normalised here) and rank by inner product, i.e. by
cosine distance, which is returned: ``distances = 1 - <q, g>``, ascending per query.

- ``brute``: batched matrix products and ``torch.topk`` (on the features' device).
- ``faiss``: ``faiss.IndexFlatIP``, exact; the same top-k as brute force (tie order aside).
- ``ivf``: ``faiss.IndexIVFFlat`` with ``nlist`` k-means cells, searching ``nprobe`` of them:
  approximate but sub-linear, for galleries of hundreds of thousands of images or more.
- ``auto``: ``brute`` up to ``auto_threshold`` gallery images, ``faiss`` beyond.
"""

from __future__ import annotations

import logging
import math
from typing import Any, NamedTuple

import numpy as np
import torch

from scing_core.errors import InputError
from scing_core.evaluation.distances import as_feature_tensor, l2_normalize

log = logging.getLogger(__name__)

METHODS = ("auto", "brute", "faiss", "ivf")
AUTO_FAISS_THRESHOLD = 100_000


class TopK(NamedTuple):
    """Per-query nearest gallery items: ``indices`` (int64) and cosine ``distances`` (float32), (num_query, k).

    With ``ivf``, a query whose probed cells hold fewer than k items gets index -1 and distance inf
    in the missing slots.
    """

    distances: np.ndarray
    indices: np.ndarray


def topk_search(qf: Any, gf: Any, k: int, method: str = "auto", batch_size: int = 1024,
                auto_threshold: int = AUTO_FAISS_THRESHOLD, nlist: int | None = None,
                nprobe: int = 16) -> TopK:
    """The ``k`` nearest gallery items of each query (``k`` is capped at the gallery size).

    Args:
        qf, gf: (N, D) query and gallery features, numpy or torch.
        k: neighbours per query.
        method: ``auto``, ``brute``, ``faiss`` or ``ivf`` (see module doc).
        batch_size: queries per step of the brute-force search.
        auto_threshold: gallery size above which ``auto`` switches to FAISS.
        nlist, nprobe: IVF cells (default about 4 sqrt(gallery), at most gallery / 39 so that
            k-means has enough points) and cells searched per query.
    """
    if method not in METHODS:
        raise InputError(f"method: unknown search '{method}'; use one of {', '.join(METHODS)}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise InputError(f"k: expected a positive integer, got {k!r}")
    queries = l2_normalize(as_feature_tensor(qf, "qf"))
    gallery = l2_normalize(as_feature_tensor(gf, "gf"))
    if queries.shape[1] != gallery.shape[1]:
        raise InputError(f"qf has {queries.shape[1]} feature dimensions but gf has {gallery.shape[1]}")
    k = min(int(k), gallery.shape[0])
    if method == "auto":
        method = "faiss" if gallery.shape[0] > auto_threshold else "brute"
    log.debug("top-%d search of %d queries in %d gallery items with %s", k, queries.shape[0], gallery.shape[0], method)
    if method == "brute":
        return _brute_force(queries, gallery.to(queries.device), k, batch_size)
    query_array, gallery_array = _faiss_array(queries), _faiss_array(gallery)
    if method == "faiss":
        return _search_flat(query_array, gallery_array, k)
    return _search_ivf(query_array, gallery_array, k, nlist, nprobe)


def _brute_force(queries: torch.Tensor, gallery: torch.Tensor, k: int, batch_size: int) -> TopK:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InputError(f"batch_size: expected a positive integer, got {batch_size!r}")
    distances = np.empty((queries.shape[0], k), dtype=np.float32)
    indices = np.empty((queries.shape[0], k), dtype=np.int64)
    for start in range(0, queries.shape[0], batch_size):
        similarity = queries[start:start + batch_size] @ gallery.T
        best = torch.topk(similarity, k, dim=1, largest=True, sorted=True)
        distances[start:start + batch_size] = (1.0 - best.values).cpu().numpy()
        indices[start:start + batch_size] = best.indices.cpu().numpy()
    return TopK(distances, indices)


def _faiss_array(features: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(features.cpu().numpy(), dtype=np.float32)


def _from_faiss(similarity: np.ndarray, indices: np.ndarray) -> TopK:
    distances = (1.0 - similarity).astype(np.float32)
    distances[indices < 0] = np.inf
    return TopK(distances, indices.astype(np.int64))


def _search_flat(queries: np.ndarray, gallery: np.ndarray, k: int) -> TopK:
    import faiss  # imported here: it loads in ~0.1-0.3 s, only large searches need it, and `scing eval --help` imports this module

    index = faiss.IndexFlatIP(gallery.shape[1])
    index.add(gallery)
    return _from_faiss(*index.search(queries, k))


def default_nlist(num_gallery: int) -> int:
    """About 4 sqrt(N) cells, but at least 39 training points per cell (FAISS's k-means minimum)."""
    return max(1, min(int(4 * math.sqrt(num_gallery)), num_gallery // 39))


def _search_ivf(queries: np.ndarray, gallery: np.ndarray, k: int, nlist: int | None, nprobe: int) -> TopK:
    import faiss  # imported here, as in _search_flat

    cells = default_nlist(gallery.shape[0]) if nlist is None else int(nlist)
    if cells < 1 or cells > gallery.shape[0]:
        raise InputError(f"nlist: expected 1..{gallery.shape[0]} (the gallery size) cells, got {nlist}")
    if isinstance(nprobe, bool) or not isinstance(nprobe, int) or nprobe < 1:
        raise InputError(f"nprobe: expected a positive integer, got {nprobe!r}")
    quantizer = faiss.IndexFlatIP(gallery.shape[1])
    index = faiss.IndexIVFFlat(quantizer, gallery.shape[1], cells, faiss.METRIC_INNER_PRODUCT)
    index.train(gallery)
    index.add(gallery)
    index.nprobe = min(nprobe, cells)
    return _from_faiss(*index.search(queries, k))
