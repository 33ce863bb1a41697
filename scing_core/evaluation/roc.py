"""Positive / negative pair distances and the ROC curve, as arrays for plots.

Pairs are (query, gallery) pairs after the protocol's junk filter: a gallery entry with the
query's pid *and* camid is ignored, as in :func:`~scing_core.evaluation.evaluate_rank`. A pair is
*positive* when the pids match (so the cameras differ) and *negative* otherwise. A pair is accepted
at threshold ``t`` when its distance is ``<= t``; TAR is the accepted fraction of positives, FAR
that of negatives. Both functions read the distance matrix in chunks and never hold all the
negative distances (about 53 million for Market-1501).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np
import torch

from scing_core.errors import InputError
from scing_core.evaluation.validation import (
    DEFAULT_CHUNK_BYTES,
    RankInputs,
    check_rank_inputs,
    iter_row_chunks,
    rows_per_chunk,
)


@dataclass(frozen=True)
class DistanceHistograms:
    """Counts of positive and negative pair distances over shared bins (``edges`` has bins + 1 values).

    The means are over all pairs of each kind, including any outside the bins' range.
    """

    edges: np.ndarray
    positive: np.ndarray
    negative: np.ndarray
    positive_mean: float
    negative_mean: float

    def densities(self) -> tuple[np.ndarray, np.ndarray]:
        """Both histograms normalised to unit area (for overlaying in one plot)."""
        widths = np.diff(self.edges)
        return (self.positive / max(self.positive.sum(), 1) / widths,
                self.negative / max(self.negative.sum(), 1) / widths)


@dataclass(frozen=True)
class RocCurve:
    """ROC points from (0, 0) to (1, 1): ``far[i]``, ``tar[i]`` at distance threshold ``thresholds[i]``.

    ``auc`` is exact (the probability that a positive pair is closer than a negative one, ties
    counting half), whatever the number of points kept for plotting.
    """

    thresholds: np.ndarray
    far: np.ndarray
    tar: np.ndarray
    auc: float
    num_positive: int
    num_negative: int

    def tar_at_far(self, far: float) -> float:
        """The highest TAR among the kept points whose FAR is at most ``far``."""
        return float(self.tar[self.far <= far].max(initial=0.0))


def _pair_chunks(inputs: RankInputs, chunk_bytes: int) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Yield ``(distances, positive, negative)`` numpy blocks of query rows."""
    q_pids, g_pids, q_camids, g_camids = inputs.q_pids, inputs.g_pids, inputs.q_camids, inputs.g_camids
    step = rows_per_chunk(inputs.num_gallery, 24, chunk_bytes)
    for start, stop, rows in iter_row_chunks(inputs.distmat, step):
        values = rows.cpu().numpy() if isinstance(rows, torch.Tensor) else rows
        same_pid = q_pids[start:stop, None] == g_pids[None, :]
        same_cam = q_camids[start:stop, None] == g_camids[None, :]
        yield values, same_pid & ~same_cam, ~same_pid


def _positives_and_range(inputs: RankInputs, chunk_bytes: int) -> tuple[np.ndarray, float, float]:
    positives, low, high = [], np.inf, -np.inf
    for values, positive, negative in _pair_chunks(inputs, chunk_bytes):
        positives.append(values[positive].astype(np.float64))
        kept = values[positive | negative]
        if kept.size:
            low, high = min(low, float(kept.min())), max(high, float(kept.max()))
    return np.concatenate(positives), low, high


def pair_distance_histograms(distmat: Any, q_pids: Any, g_pids: Any, q_camids: Any, g_camids: Any,
                             bins: int = 100, value_range: tuple[float, float] | None = None,
                             chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> DistanceHistograms:
    """Histograms of positive and negative pair distances on ``bins`` shared bins.

    ``value_range`` defaults to the smallest and largest non-junk distance.
    """
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1:
        raise InputError(f"bins: expected a positive integer, got {bins!r}")
    inputs = check_rank_inputs(distmat, q_pids, g_pids, q_camids, g_camids)
    if value_range is None:
        _, low, high = _positives_and_range(inputs, chunk_bytes)
        if not np.isfinite(low):
            raise InputError("distmat: every pair is junk (same pid and camera); nothing to histogram")
        value_range = (low, high if high > low else low + 1.0)
    edges = np.linspace(float(value_range[0]), float(value_range[1]), int(bins) + 1)
    counts = {"positive": np.zeros(int(bins), dtype=np.int64), "negative": np.zeros(int(bins), dtype=np.int64)}
    sums, sizes = {"positive": 0.0, "negative": 0.0}, {"positive": 0, "negative": 0}
    for values, positive, negative in _pair_chunks(inputs, chunk_bytes):
        for name, mask in (("positive", positive), ("negative", negative)):
            selected = values[mask]
            counts[name] += np.histogram(selected, bins=edges)[0]
            sums[name] += float(selected.sum(dtype=np.float64))
            sizes[name] += selected.size
    means = {name: sums[name] / sizes[name] if sizes[name] else float("nan") for name in sums}
    return DistanceHistograms(edges=edges, positive=counts["positive"], negative=counts["negative"],
                              positive_mean=means["positive"], negative_mean=means["negative"])


def roc_curve(distmat: Any, q_pids: Any, g_pids: Any, q_camids: Any, g_camids: Any, max_points: int = 1000,
              chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> RocCurve:
    """TAR against FAR over distance thresholds, exact at each distinct positive-pair distance.

    At most ``max_points`` points (evenly spread along the curve, ends included) are returned.
    """
    if isinstance(max_points, bool) or not isinstance(max_points, (int, np.integer)) or max_points < 2:
        raise InputError(f"max_points: expected an integer >= 2, got {max_points!r}")
    inputs = check_rank_inputs(distmat, q_pids, g_pids, q_camids, g_camids)
    positives, _, _ = _positives_and_range(inputs, chunk_bytes)
    thresholds, positive_counts = np.unique(positives, return_counts=True)
    negatives_upto = np.zeros(thresholds.size + 1, dtype=np.int64)  # by number of thresholds below
    negatives_below = np.zeros(thresholds.size + 1, dtype=np.int64)
    for values, _, negative in _pair_chunks(inputs, chunk_bytes):
        selected = values[negative]
        negatives_upto += np.bincount(np.searchsorted(thresholds, selected, side="left"), minlength=thresholds.size + 1)
        negatives_below += np.bincount(np.searchsorted(thresholds, selected, side="right"), minlength=thresholds.size + 1)
    num_positive, num_negative = int(positives.size), int(negatives_upto.sum())
    if num_positive == 0 or num_negative == 0:
        raise InputError(f"distmat: an ROC needs positive and negative pairs; found {num_positive} positive "
                         f"and {num_negative} negative pairs after removing same-camera matches")
    tar = np.cumsum(positive_counts) / num_positive  # TAR at each threshold
    far = np.cumsum(negatives_upto)[:-1] / num_negative  # negatives <= threshold
    far_before = np.cumsum(negatives_below)[:-1] / num_negative  # negatives < threshold
    auc = _area_under(far, far_before, tar)
    keep = np.unique(np.linspace(0, thresholds.size - 1, min(max_points - 2, thresholds.size)).round().astype(int))
    return RocCurve(
        thresholds=np.concatenate([[-np.inf], thresholds[keep], [np.inf]]),
        far=np.concatenate([[0.0], far[keep], [1.0]]),
        tar=np.concatenate([[0.0], tar[keep], [1.0]]),
        auc=auc, num_positive=num_positive, num_negative=num_negative,
    )


def _area_under(far: np.ndarray, far_before: np.ndarray, tar: np.ndarray) -> float:
    """Trapezoid area of the full ROC: at each threshold, a step to FAR(< t) then a segment to FAR(<= t)."""
    tar_before = np.concatenate([[0.0], tar[:-1]])
    xs = np.concatenate([[0.0], np.column_stack([far_before, far]).ravel(), [1.0]])
    ys = np.concatenate([[0.0], np.column_stack([tar_before, tar]).ravel(), [1.0]])
    return float(np.sum(np.diff(xs) * (ys[1:] + ys[:-1]) / 2.0))
