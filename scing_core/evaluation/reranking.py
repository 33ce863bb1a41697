"""k-reciprocal re-ranking (Zhong et al., "Re-ranking Person Re-identification with k-reciprocal
Encoding", CVPR 2017), written for this project to keep memory low.

The method, over all N = num_query + num_gallery images with squared Euclidean distances d on
L2-normalised features, each row divided by its maximum (``d'(i, j) = d(i, j) / max_j d(i, j)``):

1. R(i, k) = {j in the k nearest of i : i in the k nearest of j} (k-reciprocal neighbours; "the
   k nearest" includes the image itself, so k = k1 + 1 entries).
2. Expansion: for each c in R(i, k1), add R(c, round(k1 / 2)) when more than 2/3 of it lies in
   R(i, k1). The result is R*(i).
3. V(i, j) = exp(-d'(i, j)) / sum over R*(i), for j in R*(i), else 0 (a sparse row summing to 1).
4. Local query expansion: V(i) <- mean of V over the k2 nearest neighbours of i.
5. Jaccard distance d_J(i, j) = 1 - sum_k min(V(i,k), V(j,k)) / sum_k max(V(i,k), V(j,k)), where
   the denominator is 2 - the numerator since the rows sum to 1.
6. Final distance (query x gallery): (1 - lambda) * d_J + lambda * d'.

Memory: the widely copied implementation holds several dense N x N arrays (distances, their
normalised copy, a full argsort, V, V after expansion); for Market-1501 (N = 19,281) one N x N
float32 array is 1.4 GB and their sizes add up to several GB. Here only the (k1 + 1) nearest
neighbours of each image are kept, V is a sparse matrix, the Jaccard sums are accumulated from
the sparse rows in bounded batches, and distances are recomputed from the features where needed;
each chunked step stays within ``chunk_bytes``. Measured with ``benchmarks/bench_rerank.py`` on a
Market-sized problem (3,368 x 15,913, 512-D, CPU): the resident set grows by about 0.75 GB at its
peak, 0.2 GB of which is the output; 10 to 30 s on 2 shared CPU cores.

V is kept in float32/float64 (the widely copied implementation stores it in float16), so
distances may differ from that code in the last digits (run side by side with CLIP-ReID's
``re_ranking`` on the same features, ours equals it to 1.3e-7 once its float16 V is lifted to float64).

Defaults: CLIP-ReID's evaluation (``R1_mAP_eval``: k1 = 50, k2 = 15, lambda = 0.3), so re-ranked
numbers compare with the ones CLIP-ReID-based papers report; Zhong et al.'s own 20 / 6 / 0.3 are an
option. Equal distances are ranked in gallery order (a stable sort), as everywhere in the evaluation.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch

from scing_core.errors import InputError
from scing_core.evaluation.distances import as_feature_tensor, l2_normalize
from scing_core.evaluation.validation import DEFAULT_CHUNK_BYTES, rows_per_chunk

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reranking:
    """The parameters of a re-ranked evaluation (default: CLIP-ReID's), printed with its numbers."""

    k1: int = 50
    k2: int = 15
    lambda_value: float = 0.3

    @property
    def official(self) -> bool:
        return self == Reranking()

    def check(self) -> "Reranking":
        _check_parameters(self.k1, self.k2, self.lambda_value)
        return self

    def describe(self) -> str:
        """E.g. "re-ranked: k1=50, k2=15, lambda=0.3 (CLIP-ReID's); ties in gallery order"."""
        whose = " (CLIP-ReID's)" if self.official else ""
        return f"re-ranked: k1={self.k1}, k2={self.k2}, lambda={self.lambda_value:g}{whose}; ties in gallery order"

    def folder_suffix(self) -> str:
        """``_rerank`` for CLIP-ReID's parameters, ``_rerank-k20-6-0.3`` for others (their own eval folder)."""
        return "_rerank" if self.official else f"_rerank-k{self.k1}-{self.k2}-{self.lambda_value:g}"

    def as_dict(self) -> dict:
        return {**asdict(self), "ties": "gallery order"}


def k_reciprocal_rerank(qf: Any, gf: Any, k1: int = 50, k2: int = 15, lambda_value: float = 0.3,
                        chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> np.ndarray:
    """Re-ranked (num_query, num_gallery) float32 distances (see module doc).

    Args:
        qf, gf: query and gallery features (numpy or torch, any device; L2-normalised here).
            Distances are computed in float64 when given float64 features, else float32.
        k1, k2, lambda_value: the method's parameters (defaults CLIP-ReID's 50, 15, 0.3; Zhong et al.
            use 20, 6, 0.3). k2 <= k1 + 1.
        chunk_bytes: working-memory budget of each chunked step (default 256 MiB).
    """
    _check_parameters(k1, k2, lambda_value)
    queries, gallery = _features(qf, "qf"), _features(gf, "gf")
    if queries.shape[1] != gallery.shape[1]:
        raise InputError(f"qf has {queries.shape[1]} feature dimensions but gf has {gallery.shape[1]}")
    features = torch.cat([queries, gallery.to(queries.device)])
    num_query, num_all = queries.shape[0], features.shape[0]
    neighbours, row_max = _nearest_neighbours(features, min(k1 + 1, num_all), chunk_bytes)
    expansion = _expansion_sets(neighbours, k1, chunk_bytes)
    weights = _expansion_weights(features, expansion, row_max, chunk_bytes)
    del expansion
    weights = _local_query_expansion(weights, neighbours, k2)
    query_rows, gallery_columns = weights[:num_query].tocsr(), weights[num_query:].tocsc()
    del weights
    out = np.empty((num_query, num_all - num_query), dtype=np.float32)
    for start, stop, min_sums in _jaccard_min_sums(query_rows, gallery_columns, chunk_bytes):
        jaccard = 1.0 - min_sums / (2.0 - min_sums)
        original = _squared_distances(features[start:stop], features[num_query:]).cpu().numpy()
        original /= row_max[start:stop, None]
        out[start:stop] = (1.0 - lambda_value) * jaccard + lambda_value * original
    log.debug("re-ranked %d queries against %d gallery images", num_query, num_all - num_query)
    return out


def _check_parameters(k1: int, k2: int, lambda_value: float) -> None:
    for name, value in (("k1", k1), ("k2", k2)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise InputError(f"{name}: expected a positive integer, got {value!r}")
    if k2 > k1 + 1:
        raise InputError(f"k2 ({k2}) must not exceed k1 + 1 ({k1 + 1}): query expansion uses the k1-neighbourhood")
    if not 0.0 <= float(lambda_value) <= 1.0:
        raise InputError(f"lambda_value: expected a weight in [0, 1], got {lambda_value!r}")


def _features(values: Any, name: str) -> torch.Tensor:
    return l2_normalize(as_feature_tensor(values, name, keep_float64=True))


def _squared_distances(rows: torch.Tensor, columns: torch.Tensor) -> torch.Tensor:
    """||a - b||^2 for every pair, clamped at 0 (rounding can make it slightly negative)."""
    block = rows @ columns.T
    block.mul_(-2.0).add_(rows.pow(2).sum(dim=1, keepdim=True)).add_(columns.pow(2).sum(dim=1)[None, :])
    return block.clamp_(min=0.0)


def _nearest_neighbours(features: torch.Tensor, k: int, chunk_bytes: int) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest images of each image (ascending distance, itself first) and each row's max distance."""
    num_all = features.shape[0]
    neighbours = np.empty((num_all, k), dtype=np.int64)
    row_max = np.empty(num_all, dtype=np.float64)
    step = rows_per_chunk(num_all, 2 * features.element_size(), chunk_bytes)
    for start in range(0, num_all, step):
        block = _squared_distances(features[start:start + step], features)
        row_max[start:start + step] = block.max(dim=1).values.cpu().numpy()
        own = torch.arange(start, start + block.shape[0], device=block.device)
        block[own - start, own] = -1.0  # each image is its own first neighbour, even among duplicates
        neighbours[start:start + step] = torch.topk(block, k, dim=1, largest=False, sorted=True).indices.cpu().numpy()
    row_max[row_max <= 0] = 1.0  # all images identical to this one: d' = 0 either way
    return neighbours, row_max


def reciprocal_mask(neighbours: np.ndarray, k: int, chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> np.ndarray:
    """``mask[i, t]``: image ``neighbours[i, t]`` has ``i`` among its own first ``k`` neighbours."""
    nearest = neighbours[:, :k]
    mask = np.empty(nearest.shape, dtype=bool)
    step = rows_per_chunk(k * k, 9, chunk_bytes)
    for start in range(0, nearest.shape[0], step):
        rows = np.arange(start, min(start + step, nearest.shape[0]))
        mask[rows] = (nearest[nearest[rows]] == rows[:, None, None]).any(axis=2)
    return mask


def _expansion_sets(neighbours: np.ndarray, k1: int, chunk_bytes: int) -> np.ndarray:
    """R*(i) for every image as a padded (N, W) array of image indices, -1 after the members."""
    k = neighbours.shape[1]
    half = min(int(np.around(k1 / 2.0)) + 1, k)
    in_reciprocal = reciprocal_mask(neighbours, k, chunk_bytes)
    reciprocal = np.where(in_reciprocal, neighbours, -1)
    half_sets = np.where(reciprocal_mask(neighbours, half, chunk_bytes), neighbours[:, :half], -1)
    sets = np.empty((neighbours.shape[0], k + k * half), dtype=np.int64)
    step = rows_per_chunk(k * half * k, 10, chunk_bytes)
    for start in range(0, neighbours.shape[0], step):
        stop = min(start + step, neighbours.shape[0])
        own = reciprocal[start:stop]
        candidate_sets = half_sets[np.maximum(own, 0)]  # (rows, k, half); rows of -1 for non-members
        members = candidate_sets >= 0
        inside = (candidate_sets[..., None] == np.where(own >= 0, own, -2)[:, None, None, :]).any(axis=3)
        overlap, size = (inside & members).sum(axis=2), members.sum(axis=2)
        accepted = (own >= 0) & (3 * overlap > 2 * size)
        added = np.where(accepted[..., None] & members, candidate_sets, -1).reshape(stop - start, -1)
        sets[start:stop] = _unique_rows(np.concatenate([own, added], axis=1))
    return sets


def _unique_rows(padded: np.ndarray) -> np.ndarray:
    """Each row's distinct non-negative values first (ascending), then -1."""
    ordered = np.sort(padded, axis=1)
    repeated = np.zeros(ordered.shape, dtype=bool)
    repeated[:, 1:] = ordered[:, 1:] == ordered[:, :-1]
    ordered[repeated | (ordered < 0)] = np.iinfo(np.int64).max
    ordered.sort(axis=1)
    ordered[ordered == np.iinfo(np.int64).max] = -1
    return ordered


def _expansion_weights(features: torch.Tensor, sets: np.ndarray, row_max: np.ndarray,
                       chunk_bytes: int) -> sp.csr_matrix:
    """Sparse V: row i holds exp(-d'(i, j)) over R*(i), normalised to sum to 1."""
    num_all = sets.shape[0]
    present = sets >= 0
    rows = np.repeat(np.arange(num_all), present.sum(axis=1))
    columns = sets[present]
    on_cpu = features.device.type == "cpu"
    vectors = features.numpy() if on_cpu else features  # numpy gathers faster than torch on CPU
    norms = (vectors ** 2).sum(1)
    squared = np.empty(rows.size, dtype=np.float64)
    step = max(1, chunk_bytes // (2 * features.shape[1] * features.element_size()))
    for start in range(0, rows.size, step):  # pairs (i, j), a bounded number at a time
        i, j = rows[start:start + step], columns[start:start + step]
        if not on_cpu:
            i, j = torch.as_tensor(i, device=features.device), torch.as_tensor(j, device=features.device)
        pair_squared = norms[i] + norms[j] - 2.0 * (vectors[i] * vectors[j]).sum(1)
        squared[start:start + step] = pair_squared if on_cpu else pair_squared.cpu().numpy()
    np.maximum(squared, 0.0, out=squared)  # rounding can dip below 0 for near-duplicates
    values = np.exp(-squared / row_max[rows])
    values /= np.bincount(rows, weights=values, minlength=num_all)[rows]
    return sp.csr_matrix((values, (rows, columns)), shape=(num_all, num_all))


def _local_query_expansion(weights: sp.csr_matrix, neighbours: np.ndarray, k2: int) -> sp.csr_matrix:
    """Each row of V replaced by the mean of the rows of its k2 nearest images (itself included)."""
    if k2 == 1:
        return weights
    num_all = weights.shape[0]
    nearest = neighbours[:, :k2]  # fewer than k2 columns when there are fewer images
    count = nearest.shape[1]
    averaging = sp.csr_matrix((np.full(nearest.size, 1.0 / count), (np.repeat(np.arange(num_all), count), nearest.ravel())),
                              shape=(num_all, num_all))
    return (averaging @ weights).tocsr()


def _jaccard_min_sums(query_rows: sp.csr_matrix, gallery_columns: sp.csc_matrix, chunk_bytes: int):
    """Yield ``(start, stop, sums)``: ``sums[i, j] = sum_k min(Vq[i, k], Vg[j, k])`` for query rows start:stop.

    Each nonzero (i, k) of the query rows meets the nonzeros of gallery column k; the pairs are
    expanded in bounded batches and summed into a dense (rows, num_gallery) block.
    """
    num_query, num_gallery = query_rows.shape[0], gallery_columns.shape[0]
    column_counts = np.diff(gallery_columns.indptr)
    pairs_before = np.concatenate([[0], np.cumsum(column_counts[query_rows.indices])])
    pairs_per_row = pairs_before[query_rows.indptr[1:]] - pairs_before[query_rows.indptr[:-1]]
    max_pairs = max(1, chunk_bytes // 64)
    max_rows = rows_per_chunk(num_gallery, 16, chunk_bytes)
    start = 0
    while start < num_query:
        stop = start + 1
        total = int(pairs_per_row[start])
        while stop < num_query and stop - start < max_rows and total + pairs_per_row[stop] <= max_pairs:
            total += int(pairs_per_row[stop])
            stop += 1
        yield start, stop, _min_sums_block(query_rows[start:stop], gallery_columns, column_counts)
        start = stop


def _min_sums_block(block: sp.csr_matrix, gallery_columns: sp.csc_matrix, column_counts: np.ndarray) -> np.ndarray:
    num_rows, num_gallery = block.shape[0], gallery_columns.shape[0]
    rows = np.repeat(np.arange(num_rows), np.diff(block.indptr))
    counts = column_counts[block.indices]
    total = int(counts.sum())
    if total == 0:
        return np.zeros((num_rows, num_gallery))
    # Positions in the gallery's CSC arrays: for entry e, indptr[col_e] + 0 .. counts_e - 1.
    first = np.repeat(gallery_columns.indptr[block.indices] - (np.cumsum(counts) - counts), counts)
    positions = first + np.arange(total)
    mins = np.minimum(np.repeat(block.data, counts), gallery_columns.data[positions])
    flat = np.repeat(rows, counts) * num_gallery + gallery_columns.indices[positions]
    return np.bincount(flat, weights=mins, minlength=num_rows * num_gallery).reshape(num_rows, num_gallery)
