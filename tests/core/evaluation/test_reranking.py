"""k-reciprocal re-ranking: equal to a dense reference written from the paper, and useful where it must be."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from scing_core.errors import InputError
from scing_core.evaluation import compute_distance, evaluate_rank, k_reciprocal_rerank


def dense_reference(qf, gf, k1=20, k2=6, lambda_value=0.3):
    """Zhong et al. (CVPR 2017) step by step on dense N x N matrices, one image at a time."""
    features = np.concatenate([qf, gf]).astype(np.float64)
    features /= np.linalg.norm(features, axis=1, keepdims=True)
    num_query, num_all = len(qf), len(features)
    distances = ((features[:, None, :] - features[None, :, :]) ** 2).sum(axis=2)
    distances /= distances.max(axis=1, keepdims=True)
    ranking = np.argsort(distances, axis=1, kind="stable")

    def reciprocal(i, k):
        return [j for j in ranking[i, :k + 1] if i in ranking[j, :k + 1]]

    weights = np.zeros((num_all, num_all))
    for i in range(num_all):
        neighbours = reciprocal(i, k1)
        expanded = list(neighbours)
        for candidate in neighbours:
            half = reciprocal(candidate, int(np.around(k1 / 2.0)))
            if len(set(half) & set(neighbours)) > 2.0 / 3.0 * len(half):
                expanded += half
        expanded = np.unique(expanded)
        weights[i, expanded] = np.exp(-distances[i, expanded]) / np.exp(-distances[i, expanded]).sum()
    if k2 > 1:
        weights = np.stack([weights[ranking[i, :k2]].mean(axis=0) for i in range(num_all)])
    jaccard = np.zeros((num_query, num_all - num_query))
    for i in range(num_query):
        for j in range(num_query, num_all):
            jaccard[i, j - num_query] = 1 - np.minimum(weights[i], weights[j]).sum() / np.maximum(weights[i], weights[j]).sum()
    return (1 - lambda_value) * jaccard + lambda_value * distances[:num_query, num_query:]


def clustered_features(rng, num_query, num_gallery, dim, num_ids, noise):
    centres = rng.normal(size=(num_ids, dim))
    qf = centres[rng.integers(0, num_ids, num_query)] + noise * rng.normal(size=(num_query, dim))
    gf = centres[rng.integers(0, num_ids, num_gallery)] + noise * rng.normal(size=(num_gallery, dim))
    return qf, gf


def test_matches_the_dense_reference_for_many_sizes_and_parameters():
    rng = np.random.default_rng(0)
    for _ in range(8):
        num_query, num_gallery = int(rng.integers(2, 20)), int(rng.integers(3, 45))
        qf, gf = clustered_features(rng, num_query, num_gallery, int(rng.integers(2, 8)), 5, 0.5)
        k1 = int(rng.integers(1, 25))
        k2 = int(rng.integers(1, min(k1 + 1, 8) + 1))
        lambda_value = float(rng.uniform(0, 1))
        result = k_reciprocal_rerank(qf, gf, k1=k1, k2=k2, lambda_value=lambda_value,
                                     chunk_bytes=int(rng.integers(64, 50_000)))
        assert result.dtype == np.float32 and result.shape == (num_query, num_gallery)
        np.testing.assert_allclose(result, dense_reference(qf, gf, k1, k2, lambda_value), atol=1e-6)


def test_default_parameters_are_clip_reids_and_match_the_reference_on_a_gallery_larger_than_k1():
    """CLIP-ReID's R1_mAP_eval re-ranks with k1=50, k2=15, lambda=0.3: the defaults."""
    rng = np.random.default_rng(1)
    qf, gf = clustered_features(rng, 12, 90, 6, 6, 0.6)
    np.testing.assert_allclose(k_reciprocal_rerank(qf, gf), dense_reference(qf, gf, 50, 15, 0.3), atol=1e-6)


def decoy_problem(num_pairs=4, seed=0):
    """Per identity A, in its own plane: query at 0 deg, A's 6 gallery images at 30 deg, and a decoy
    of identity B at -20 deg that sits among B's 25 images at -35 deg.

    The decoy is the query's nearest image, so plain ranking puts a false match first. But the
    query is not among the decoy's 21 nearest (its 25 B-neighbours are closer), so the decoy is
    not a k-reciprocal neighbour of the query, while A's images are: re-ranking must put all of A
    first.
    """
    rng = np.random.default_rng(seed)
    dim = 2 * num_pairs

    def point(pair, degrees):
        vector = np.zeros(dim)
        vector[2 * pair], vector[2 * pair + 1] = np.cos(np.deg2rad(degrees)), np.sin(np.deg2rad(degrees))
        return vector

    qf, q_pids, gf, g_pids = [], [], [], []
    for pair in range(num_pairs):
        true_pid, decoy_pid = 2 * pair + 1, 2 * pair + 2
        qf.append(point(pair, 0.0))
        q_pids.append(true_pid)
        gf += [point(pair, 30 + rng.uniform(-0.3, 0.3)) for _ in range(6)]
        g_pids += [true_pid] * 6
        gf += [point(pair, -20.0)] + [point(pair, -35 + rng.uniform(-0.3, 0.3)) for _ in range(25)]
        g_pids += [decoy_pid] * 26
    return np.array(qf), np.array(gf), np.array(q_pids), np.array(g_pids)


def test_re_ranking_recovers_the_true_matches_that_a_decoy_pushes_down():
    qf, gf, q_pids, g_pids = decoy_problem()
    q_cams, g_cams = np.zeros(len(q_pids), dtype=int), np.ones(len(g_pids), dtype=int)
    plain = evaluate_rank(compute_distance(qf, gf).numpy(), q_pids, g_pids, q_cams, g_cams)
    reranked = evaluate_rank(k_reciprocal_rerank(qf, gf), q_pids, g_pids, q_cams, g_cams)
    assert (plain.first_hit == 1).all() and plain.mAP < 0.75  # the decoy ranks first
    assert (reranked.first_hit == 0).all() and reranked.mAP == pytest.approx(1.0)


def test_lambda_one_keeps_the_original_ranking():
    rng = np.random.default_rng(2)
    qf, gf = clustered_features(rng, 5, 30, 4, 3, 0.4)
    reranked = k_reciprocal_rerank(qf, gf, lambda_value=1.0)
    original = compute_distance(qf, gf, metric="euclidean").numpy()
    np.testing.assert_array_equal(np.argsort(reranked, axis=1), np.argsort(original, axis=1))


@pytest.mark.parametrize("kwargs, message", [
    ({"k1": 0}, "k1: expected a positive integer"),
    ({"k2": 0}, "k2: expected a positive integer"),
    ({"k1": 3, "k2": 5}, "k2 \\(5\\) must not exceed k1 \\+ 1"),
    ({"lambda_value": 1.5}, "lambda_value"),
    ({"gf": np.ones((4, 3))}, "qf has 2 feature dimensions but gf has 3"),
])
def test_bad_parameters_raise_input_errors(kwargs, message):
    arguments = {"qf": np.ones((3, 2)), "gf": np.ones((4, 2))} | kwargs
    with pytest.raises(InputError, match=message):
        k_reciprocal_rerank(**arguments)


@pytest.mark.slow
def test_a_market_sized_problem_stays_under_one_dense_n_by_n_matrix_of_memory():
    """3,368 x 15,913 (N = 19,281): one dense N x N float32 matrix is 1.4 GB; the usual
    implementation holds several. Measured in a fresh process (resident-set high-water mark)."""
    script = textwrap.dedent("""
        import json, resource, numpy as np
        from scing_core.evaluation import k_reciprocal_rerank
        rng = np.random.default_rng(0)
        centres = rng.normal(size=(751, 256)).astype(np.float32)
        qf = centres[rng.integers(0, 751, 3368)] + 3 * rng.normal(size=(3368, 256)).astype(np.float32)
        gf = centres[rng.integers(0, 751, 15913)] + 3 * rng.normal(size=(15913, 256)).astype(np.float32)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        out = k_reciprocal_rerank(qf, gf)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({"peak_mib": (after - before) / 1024, "shape": list(out.shape)}))
    """)
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    assert report["shape"] == [3368, 15913]
    assert report["peak_mib"] < 1200, report


def test_fewer_images_than_k2_average_over_the_images_there_are():
    rng = np.random.default_rng(3)
    qf, gf = clustered_features(rng, 2, 3, 4, 2, 0.3)  # 5 images, k2 = 6
    np.testing.assert_allclose(k_reciprocal_rerank(qf, gf, k1=20, k2=6), dense_reference(qf, gf, 20, 6), atol=1e-6)
