"""Pair-distance histograms and ROC, checked against direct counting over all pairs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from scing_core.errors import InputError
from scing_core.evaluation import pair_distance_histograms, roc_curve


def problem(seed, num_query=25, num_gallery=80, ties=False):
    rng = np.random.default_rng(seed)
    q_pids, g_pids = rng.integers(0, 6, num_query), rng.integers(0, 6, num_gallery)
    q_cams, g_cams = rng.integers(0, 3, num_query), rng.integers(0, 3, num_gallery)
    # positives a little closer than negatives on average
    distmat = rng.random((num_query, num_gallery)) + 0.4 * (q_pids[:, None] != g_pids[None, :])
    if ties:
        distmat = np.round(distmat, 1)
    return distmat, q_pids, g_pids, q_cams, g_cams


def split_pairs(distmat, q_pids, g_pids, q_cams, g_cams):
    same_pid = q_pids[:, None] == g_pids[None, :]
    same_cam = q_cams[:, None] == g_cams[None, :]
    return distmat[same_pid & ~same_cam], distmat[~same_pid]


def test_histograms_count_positive_and_negative_pairs_without_the_junk():
    data = problem(0)
    positives, negatives = split_pairs(*data)
    result = pair_distance_histograms(*data, bins=12, chunk_bytes=1)
    edges = np.linspace(min(positives.min(), negatives.min()), max(positives.max(), negatives.max()), 13)
    np.testing.assert_allclose(result.edges, edges)
    np.testing.assert_array_equal(result.positive, np.histogram(positives, edges)[0])
    np.testing.assert_array_equal(result.negative, np.histogram(negatives, edges)[0])
    assert result.positive_mean == pytest.approx(positives.mean())
    assert result.negative_mean == pytest.approx(negatives.mean())
    positive_density, _ = result.densities()
    assert np.sum(positive_density * np.diff(result.edges)) == pytest.approx(1.0)


def test_roc_points_are_the_accepted_fractions_at_each_threshold():
    data = problem(1)
    positives, negatives = split_pairs(*data)
    curve = roc_curve(*data, max_points=10_000)
    assert curve.num_positive == positives.size and curve.num_negative == negatives.size
    for threshold, far, tar in zip(curve.thresholds[1:-1], curve.far[1:-1], curve.tar[1:-1]):
        assert tar == pytest.approx(np.mean(positives <= threshold))
        assert far == pytest.approx(np.mean(negatives <= threshold))
    assert (curve.far[0], curve.tar[0], curve.far[-1], curve.tar[-1]) == (0.0, 0.0, 1.0, 1.0)


@pytest.mark.parametrize("ties", [False, True])
def test_auc_is_the_probability_that_a_positive_pair_is_closer_than_a_negative_one(ties):
    data = problem(2, ties=ties)
    positives, negatives = split_pairs(*data)
    closer = (positives[:, None] < negatives[None, :]).mean()
    tied = (positives[:, None] == negatives[None, :]).mean()
    curve = roc_curve(*data, max_points=5)
    assert curve.auc == pytest.approx(closer + 0.5 * tied, abs=1e-12)
    assert len(curve.far) <= 5 and 0.5 < curve.auc < 1.0


def test_tar_at_far_reads_the_curve():
    curve = roc_curve(*problem(3))
    assert curve.tar_at_far(1.0) == 1.0
    assert curve.tar_at_far(0.0) <= curve.tar_at_far(0.1) <= curve.tar_at_far(0.5)


def test_torch_input_gives_the_same_curve():
    data = problem(4)
    from_numpy = roc_curve(*data)
    from_torch = roc_curve(torch.from_numpy(data[0]), *data[1:])
    np.testing.assert_array_equal(from_torch.far, from_numpy.far)
    assert from_torch.auc == from_numpy.auc


def test_roc_without_positive_pairs_is_an_input_error():
    distmat, q_pids, g_pids, q_cams, g_cams = problem(5)
    with pytest.raises(InputError, match="needs positive and negative pairs"):
        roc_curve(distmat, q_pids + 100, g_pids, q_cams, g_cams)
    with pytest.raises(InputError, match="bins"):
        pair_distance_histograms(distmat, q_pids, g_pids, q_cams, g_cams, bins=0)
