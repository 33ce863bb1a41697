"""CMC and mAP under the Market-1501 single-query protocol, exact and vectorised.

The protocol (as torchreid's ``eval_market1501`` and CLIP-ReID compute it): for each query, rank the
gallery by increasing distance; remove the gallery entries that have the query's pid *and* camid
("junk"); a query with no remaining entry of its pid is skipped. On the remaining list, the query's
CMC curve is 1 from the rank of its first true match on, and its AP is the mean of the precision
at each true match. CMC and mAP average over the valid (non-skipped) queries.

How it is computed without an argsort per query: a query's AP and first hit only depend on, for
each of its true matches, how many kept entries come before it. With each row of distances sorted
(values only: numpy's SIMD sort on CPU, ``torch.sort`` on a GPU), the number of entries closer than
a true match is a binary search (vectorised over all rows of a chunk), and the junk entries closer
than it are subtracted using the few same-pid entries gathered from a per-pid table of the
gallery. Rows are processed in chunks whose working memory stays under ``chunk_bytes``.

Ties: ranks follow a *stable* sort of each row (equal distances keep gallery order), as a per-query
loop with ``np.argsort(kind="stable")`` would. The rows where a true match ties with another entry
take a slower stable-argsort path, so the result is exact for them too.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from scing_core.errors import InputError
from scing_core.evaluation.array_ops import NumpyOps, TorchOps, ops_for
from scing_core.evaluation.validation import (
    DEFAULT_CHUNK_BYTES,
    RankInputs,
    check_rank_inputs,
    raise_non_finite,
    row_chunk,
    rows_per_chunk,
)

log = logging.getLogger(__name__)

# Working bytes per distance entry, beyond the entry itself: the fast path holds a sorted copy of the
# rows and, per true-match candidate (at most one per entry), indices, masks and gathered distances;
# the tie path an argsort (int64), gathered labels, masks and cumulative sums.
_FAST_BYTES_PER_ENTRY = 40
_TIE_BYTES_PER_ENTRY = 48


@dataclass(frozen=True)
class RankResult:
    """Ranking metrics of one query set against one gallery.

    Attributes:
        cmc: float64 array of length ``min(max_rank, num_gallery)``; ``cmc[r]`` is the fraction of
            valid queries whose first true match is at rank ``r`` (0-based) or better.
        mAP: mean average precision over the valid queries, in [0, 1].
        ap: per-query average precision, NaN for skipped queries.
        first_hit: per-query 0-based rank of the first true match after junk removal, -1 if skipped.
        num_valid: number of queries with at least one true match left in the gallery.
    """

    cmc: np.ndarray
    mAP: float
    ap: np.ndarray
    first_hit: np.ndarray
    num_valid: int

    def recall_at(self, k: int) -> float:
        """Fraction of valid queries with a true match in the top ``k`` (CMC@k, any ``k >= 1``)."""
        if k < 1:
            raise InputError(f"recall_at: k must be >= 1, got {k}")
        valid = self.first_hit >= 0
        return float(np.mean(self.first_hit[valid] < k))


def evaluate_rank(distmat: Any, q_pids: Any, g_pids: Any, q_camids: Any, g_camids: Any, max_rank: int = 50,
                  chunk_bytes: int = DEFAULT_CHUNK_BYTES, num_threads: int | None = None) -> RankResult:
    """CMC, mAP and per-query AP / first-hit rank under the Market-1501 protocol (see module doc).

    Args:
        distmat: (num_query, num_gallery) distances, numpy or torch (CUDA tensors are evaluated on
            their GPU). Not modified and not copied whole.
        q_pids, g_pids, q_camids, g_camids: 1-D integer labels (numpy, torch or lists).
        max_rank: length of the CMC curve, capped at the gallery size.
        chunk_bytes: working-memory budget, shared by the threads (default 256 MiB).
        num_threads: CPU threads working on chunks of queries at once (default: the CPU count,
            at most 4); GPU input is processed chunk after chunk.

    Raises:
        InputError: malformed arguments (shapes, dtypes, NaN / inf distances, empty gallery) or no
            query with a true match in the gallery.
    """
    if isinstance(max_rank, bool) or not isinstance(max_rank, (int, np.integer)) or max_rank < 1:
        raise InputError(f"max_rank: expected a positive integer, got {max_rank!r}")
    inputs = check_rank_inputs(distmat, q_pids, g_pids, q_camids, g_camids)
    threads = 1 if inputs.on_gpu else max(1, int(num_threads or min(4, os.cpu_count() or 1)))
    table = SamePidTable(inputs.g_pids, inputs.q_pids)
    itemsize = inputs.distmat.element_size() if isinstance(inputs.distmat, torch.Tensor) else inputs.distmat.itemsize
    rows_each = rows_per_chunk(inputs.num_gallery, _FAST_BYTES_PER_ENTRY + itemsize, chunk_bytes // threads)
    bounds = [(start, min(start + rows_each, inputs.num_query)) for start in range(0, inputs.num_query, rows_each)]

    labels = inputs.labels(inputs.distmat if inputs.on_gpu else None)  # copied to the GPU once

    def rank_chunk(start_stop: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        return _rank_chunk(inputs, labels, table, *start_stop, chunk_bytes // threads)

    if threads == 1 or len(bounds) == 1:
        results = [rank_chunk(chunk) for chunk in bounds]
    else:
        with ThreadPoolExecutor(max_workers=threads) as pool:  # numpy's sorts release the GIL
            results = list(pool.map(rank_chunk, bounds))
    ap = np.concatenate([chunk_ap for chunk_ap, _ in results])
    first_hit = np.concatenate([chunk_first for _, chunk_first in results])
    return _summarise(ap, first_hit, min(int(max_rank), inputs.num_gallery))


def _rank_chunk(inputs: RankInputs, labels: tuple, table: "SamePidTable", start: int, stop: int,
                chunk_bytes: int) -> tuple[np.ndarray, np.ndarray]:
    """AP and first hit (numpy) of queries ``start:stop``: the fast path, then exact ties."""
    rows = row_chunk(inputs.distmat, start, stop, check_finite=False)
    ops = ops_for(rows)
    ap, first_hit, tied = _rank_chunk_fast(ops, rows, labels, table.gather(start, stop, ops, rows), start)
    ap, first_hit, tied = ops.to_numpy(ap), ops.to_numpy(first_hit), ops.to_numpy(tied)
    if tied.any():
        tied_rows = tied.nonzero()[0]
        ap[tied_rows], first_hit[tied_rows] = _rank_rows_stable(ops, rows, tied_rows, labels, start, chunk_bytes)
    return ap, first_hit


class SamePidTable:
    """For each query, the gallery indices that share its pid (CSR layout: gallery sorted by pid).

    ``order[start[q]:start[q] + count[q]]`` are the gallery indices of query ``q``'s pid; ``count``
    is 0 when the pid is absent from the gallery.
    """

    def __init__(self, g_pids: np.ndarray, q_pids: np.ndarray):
        pids, counts = np.unique(g_pids, return_counts=True)
        self.order = np.argsort(g_pids, kind="stable")
        starts = np.cumsum(counts) - counts
        position = np.minimum(np.searchsorted(pids, q_pids), pids.size - 1)
        found = pids[position] == q_pids
        self.start = np.where(found, starts[position], 0)
        self.count = np.where(found, counts[position], 0)

    def gather(self, begin: int, end: int, ops: Any, like: Any) -> tuple[Any, Any]:
        """``(indices, present)`` for queries ``begin:end``: padded gallery indices and their mask."""
        count = self.count[begin:end]
        width = int(count.max()) if count.size else 0
        offsets = np.arange(width)[None, :]
        present = offsets < count[:, None]
        indices = self.order[np.where(present, self.start[begin:end, None] + offsets, 0)]
        if ops is TorchOps:
            return TorchOps.asarray(indices, like), TorchOps.asarray(present, like)
        return indices, present


def _rank_chunk_fast(ops: Any, rows: Any, labels: tuple, same_pid: tuple[Any, Any], start: int) -> tuple[Any, Any, Any]:
    """AP, first-hit rank and a "tied" flag for each query row of a chunk (see module doc).

    ``same_pid`` holds, per row, the gallery indices sharing the query's pid and a validity mask.
    """
    q_pids, g_pids, q_camids, g_camids = labels
    indices, present = same_pid
    num_rows, num_gallery = rows.shape
    sorted_rows = ops.sort_rows(rows)
    if not ops.isfinite_all(sorted_rows[:, [0, -1]]):  # sorting puts NaN and +-inf at the row ends
        raise_non_finite(rows, start)
    ap = ops.full((num_rows,), float("nan"), "float64", rows)
    first_hit = ops.full((num_rows,), -1, "int64", rows)
    if indices.shape[1] == 0:
        return ap, first_hit, ops.full((num_rows,), False, "bool", rows)
    same_cam = g_camids[indices] == q_camids[start:start + num_rows, None]
    good, junk = present & ~same_cam, present & same_cam
    distances = ops.gather_rows(rows, indices)
    good_d = ops.sort_rows(ops.where(good, distances, float("inf")))
    junk_d = ops.sort_rows(ops.where(junk, distances, float("inf")))
    num_good = good.sum(1)
    is_good = ops.arange(good_d.shape[1], rows)[None, :] < num_good[:, None]

    closer = ops.count_below(sorted_rows, good_d)  # entries strictly closer than each true match
    # sorted_rows[closer] equals the match's distance; another equal entry would sit right after it.
    next_value = ops.gather_rows(sorted_rows, ops.where(closer + 1 < num_gallery, closer + 1, num_gallery - 1))
    tied = (is_good & (closer + 1 < num_gallery) & (next_value == good_d)).any(1)
    kept_rank = closer - ops.count_below(junk_d, good_d)  # 0-based rank once junk is removed

    hits_so_far = ops.f64(ops.arange(good_d.shape[1], rows) + 1)[None, :]
    precision = ops.where(is_good, hits_so_far / ops.f64(kept_rank + 1), 0.0)
    valid = num_good > 0
    ap[valid] = precision.sum(1)[valid] / ops.f64(num_good[valid])
    first_hit[valid] = kept_rank[valid, 0]
    return ap, first_hit, tied


def _rank_rows_stable(ops: Any, rows: Any, tied_rows: np.ndarray, labels: tuple, start: int,
                      chunk_bytes: int) -> tuple[np.ndarray, np.ndarray]:
    """AP and first hit of the given rows of a chunk by a stable full argsort (used where ties matter)."""
    q_pids, g_pids, q_camids, g_camids = labels
    aps, firsts = [], []
    step = rows_per_chunk(rows.shape[1], _TIE_BYTES_PER_ENTRY, chunk_bytes)
    for begin in range(0, tied_rows.size, step):
        local = tied_rows[begin:begin + step]
        queries = ops.asarray(local + start) if ops is NumpyOps else TorchOps.asarray(local + start, rows)
        order = ops.stable_argsort(rows[ops.asarray(local) if ops is NumpyOps else TorchOps.asarray(local, rows)])
        same = g_pids[order] == q_pids[queries][:, None]
        junk = same & (g_camids[order] == q_camids[queries][:, None])
        del order
        good = same & ~junk
        kept_rank = ops.cumsum_rows(~junk) - 1
        # (+ junk keeps the divisor of ignored junk entries above 0; true matches are never junk)
        precision = ops.where(good, ops.f64(ops.cumsum_rows(good)) / ops.f64(kept_rank + 1 + junk), 0.0)
        num_good = good.sum(1)
        has_match = ops.to_numpy(num_good > 0)
        first = ops.to_numpy(ops.gather_rows(kept_rank, ops.first_true(good)[:, None]))[:, 0]
        aps.append(np.where(has_match, ops.to_numpy(precision.sum(1)) / np.maximum(ops.to_numpy(num_good), 1), np.nan))
        firsts.append(np.where(has_match, first, -1))
    return np.concatenate(aps), np.concatenate(firsts)


def _summarise(ap: np.ndarray, first_hit: np.ndarray, cmc_length: int) -> RankResult:
    valid = first_hit >= 0
    num_valid = int(valid.sum())
    if num_valid == 0:
        raise InputError(
            "no query has a true match in the gallery once same-pid same-camera entries are removed; "
            "check that query and gallery use the same pids and camera ids"
        )
    hits_at = np.bincount(first_hit[valid], minlength=cmc_length)[:cmc_length]
    cmc = np.cumsum(hits_at) / num_valid
    log.debug("evaluated %d queries, %d valid", first_hit.size, num_valid)
    return RankResult(cmc=cmc.astype(np.float64), mAP=float(np.mean(ap[valid])), ap=ap, first_hit=first_hit,
                      num_valid=num_valid)


def metrics_of(result) -> dict:
    """``{mAP, R1, R5, R10, num_valid}`` of a :class:`RankResult` as plain floats (the last CMC value
    stands in for a rank beyond the gallery)."""
    cmc = result.cmc
    pick = lambda k: float(cmc[k - 1]) if len(cmc) >= k else float(cmc[-1])  # noqa: E731
    return {"mAP": float(result.mAP), "R1": pick(1), "R5": pick(5), "R10": pick(10), "num_valid": int(result.num_valid)}
