"""evaluate_rank against the Market-1501 protocol written as a plain per-query loop (the oracle)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from scing_core.errors import InputError
from scing_core.evaluation import RankResult, evaluate_rank
from scing_core.evaluation import metrics as metrics_module
from scing_core.evaluation.array_ops import TorchOps
from scing_core.evaluation.validation import check_rank_inputs


def oracle_rank(distmat, q_pids, g_pids, q_camids, g_camids, max_rank=50):
    """The protocol, one query at a time, from its definition (torchreid's eval_market1501).

    Rank the gallery by distance (stable: equal distances keep gallery order), drop entries with
    the query's pid and camid, skip the query if no entry of its pid is left; CMC is the
    cumulated first-hit indicator averaged over valid queries; AP is the mean of the precision
    at each true match.
    """
    num_query, num_gallery = distmat.shape
    cmc_length = min(max_rank, num_gallery)
    ap = np.full(num_query, np.nan)
    first_hit = np.full(num_query, -1)
    cmc_rows = []
    for q in range(num_query):
        order = np.argsort(distmat[q], kind="stable")
        same_pid = g_pids[order] == q_pids[q]
        junk = same_pid & (g_camids[order] == q_camids[q])
        matches = same_pid[~junk]
        if not matches.any():
            continue
        hits = 0
        precisions = []
        for position, is_match in enumerate(matches):
            if is_match:
                hits += 1
                precisions.append(hits / (position + 1))
        ap[q] = sum(precisions) / len(precisions)
        first_hit[q] = int(np.flatnonzero(matches)[0])
        row = np.zeros(cmc_length)
        row[first_hit[q]:] = 1.0
        cmc_rows.append(row)
    valid = first_hit >= 0
    if not valid.any():
        return None, None, ap, first_hit, 0
    return np.mean(cmc_rows, axis=0), float(np.mean(ap[valid])), ap, first_hit, int(valid.sum())


def random_problem(rng, num_query, num_gallery, num_ids, num_cams, distractor_share=0.0, ties=False):
    q_pids = rng.integers(1, num_ids + 1, num_query)
    g_pids = rng.integers(1, num_ids + 1, num_gallery)
    g_pids[rng.random(num_gallery) < distractor_share] = 0  # Market-style distractors
    q_camids = rng.integers(0, num_cams, num_query)
    g_camids = rng.integers(0, num_cams, num_gallery)
    if ties:
        distmat = rng.integers(0, 4, (num_query, num_gallery)).astype(np.float32)
    else:
        distmat = rng.random((num_query, num_gallery))
    return distmat, q_pids, g_pids, q_camids, g_camids


def assert_matches_oracle(problem, max_rank=50, **kwargs):
    expected_cmc, expected_map, expected_ap, expected_first, expected_valid = oracle_rank(*problem, max_rank=max_rank)
    result = evaluate_rank(*problem, max_rank=max_rank, **kwargs)
    assert result.cmc.shape == (min(max_rank, problem[0].shape[1]),)
    np.testing.assert_allclose(result.cmc, expected_cmc, rtol=0, atol=1e-9)
    assert abs(result.mAP - expected_map) < 1e-9
    np.testing.assert_allclose(result.ap, expected_ap, rtol=0, atol=1e-9, equal_nan=True)
    np.testing.assert_array_equal(result.first_hit, expected_first)
    assert result.num_valid == expected_valid
    return result


def has_valid_query(problem):
    return oracle_rank(*problem)[4] > 0


def test_hand_computed_example_gives_known_ap_cmc_and_first_hits():
    distmat = np.array([[0.1, 0.2, 0.3, 0.4, 0.5],
                        [0.3, 0.1, 0.2, 0.5, 0.4],
                        [0.5, 0.4, 0.3, 0.2, 0.1]])
    g_pids = np.array([2, 1, 1, 3, 1])
    g_camids = np.array([1, 0, 1, 2, 2])
    # query 0: pid 1 cam 0 -> gallery 1 is junk; kept order 2,1(good),3,1(good) -> AP (1/2 + 2/4) / 2
    # query 1: pid 4 -> no match, skipped; query 2: pid 3 cam 0 -> kept order 1,3(good),... -> AP 1/2
    result = evaluate_rank(distmat, np.array([1, 4, 3]), g_pids, np.array([0, 0, 0]), g_camids, max_rank=10)
    np.testing.assert_allclose(result.ap, [0.5, np.nan, 0.5], equal_nan=True)
    np.testing.assert_array_equal(result.first_hit, [1, -1, 1])
    np.testing.assert_allclose(result.cmc, [0, 1, 1, 1, 1])  # capped at the gallery size
    assert result.mAP == pytest.approx(0.5) and result.num_valid == 2
    assert result.recall_at(1) == 0.0 and result.recall_at(2) == 1.0


def test_matches_the_per_query_oracle_on_many_random_tie_free_problems():
    rng = np.random.default_rng(0)
    checked = 0
    for _ in range(150):
        problem = random_problem(rng, int(rng.integers(1, 40)), int(rng.integers(1, 120)), int(rng.integers(1, 15)),
                                 int(rng.integers(1, 5)), distractor_share=float(rng.choice([0.0, 0.3])))
        if has_valid_query(problem):
            assert_matches_oracle(problem, max_rank=int(rng.integers(1, 80)))
            checked += 1
    assert checked > 100


def test_matches_the_oracle_with_queries_without_matches_and_pid_zero_distractors():
    rng = np.random.default_rng(1)
    distmat, q_pids, g_pids, q_camids, g_camids = random_problem(rng, 60, 200, 30, 6, distractor_share=0.4)
    q_pids[:10] = 999  # identities absent from the gallery
    result = assert_matches_oracle((distmat, q_pids, g_pids, q_camids, g_camids))
    assert np.isnan(result.ap[:10]).all() and (result.first_hit[:10] == -1).all()


def test_matches_the_oracle_on_single_camera_data_where_all_same_pid_entries_are_junk():
    rng = np.random.default_rng(2)
    distmat, q_pids, g_pids, _, _ = random_problem(rng, 30, 90, 8, 1)
    q_camids, g_camids = np.zeros(30, dtype=int), np.ones(90, dtype=int)
    g_camids[:45] = 0  # half the gallery shares the queries' camera
    result = assert_matches_oracle((distmat, q_pids, g_pids, q_camids, g_camids))
    with pytest.raises(InputError, match="no query has a true match"):
        evaluate_rank(distmat, q_pids, g_pids, q_camids, np.zeros(90, dtype=int))
    assert result.num_valid > 0


def test_gallery_smaller_than_max_rank_gives_a_cmc_as_long_as_the_gallery():
    rng = np.random.default_rng(3)
    problem = random_problem(rng, 12, 7, 3, 3)
    result = assert_matches_oracle(problem, max_rank=50)
    assert result.cmc.shape == (7,) and result.cmc[-1] == pytest.approx(1.0)


def test_ties_are_ranked_in_gallery_order_like_a_stable_sort():
    rng = np.random.default_rng(4)
    checked = 0
    for _ in range(60):
        problem = random_problem(rng, int(rng.integers(1, 30)), int(rng.integers(2, 60)), 5, 3, ties=True)
        if has_valid_query(problem):
            assert_matches_oracle(problem)
            checked += 1
    assert checked > 30


def test_chunking_and_threads_do_not_change_the_result():
    rng = np.random.default_rng(5)
    problem = random_problem(rng, 97, 150, 10, 4, distractor_share=0.2)
    reference = evaluate_rank(*problem, num_threads=1)
    for chunk_bytes, threads in ((1, 1), (5_000, 2), (50_000, 3)):  # 1 byte: one query per chunk
        result = evaluate_rank(*problem, chunk_bytes=chunk_bytes, num_threads=threads)
        np.testing.assert_allclose(result.ap, reference.ap, rtol=0, atol=1e-12, equal_nan=True)
        np.testing.assert_array_equal(result.first_hit, reference.first_hit)


def test_torch_tensors_float32_float16_and_integer_distances_are_accepted():
    rng = np.random.default_rng(6)
    distmat, *labels = random_problem(rng, 20, 50, 6, 3)
    reference = assert_matches_oracle((distmat, *labels))
    torch_labels = [torch.as_tensor(values) for values in labels]
    from_tensor = evaluate_rank(torch.from_numpy(distmat), *torch_labels)
    assert from_tensor.mAP == pytest.approx(reference.mAP, abs=1e-12)
    for dtype in (np.float32, np.float16):
        assert_matches_oracle((distmat.astype(dtype), *labels))
    assert_matches_oracle(((distmat * 1000).astype(np.int64), *labels))
    from_lists = evaluate_rank(distmat.tolist(), *[values.tolist() for values in labels])
    np.testing.assert_array_equal(from_lists.first_hit, reference.first_hit)


def test_the_torch_kernels_used_on_gpus_match_the_oracle_on_cpu_tensors():
    """The CUDA path runs TorchOps; exercise exactly those kernels here on CPU tensors."""
    rng = np.random.default_rng(7)
    for ties in (False, True):
        problem = random_problem(rng, 25, 70, 6, 3, ties=ties)
        _, _, expected_ap, expected_first, _ = oracle_rank(*problem)
        inputs = check_rank_inputs(*problem)
        rows = torch.from_numpy(np.asarray(problem[0]))
        labels = inputs.labels(rows)
        table = metrics_module.SamePidTable(inputs.g_pids, inputs.q_pids)
        ap, first_hit, tied = metrics_module._rank_chunk_fast(TorchOps, rows, labels, table.gather(0, 25, TorchOps, rows), 0)
        ap, first_hit, tied = ap.numpy(), first_hit.numpy(), tied.numpy()
        if tied.any():
            rows_with_ties = tied.nonzero()[0]
            ap[rows_with_ties], first_hit[rows_with_ties] = metrics_module._rank_rows_stable(
                TorchOps, rows, rows_with_ties, labels, 0, 2**20)
        assert tied.any() == ties
        np.testing.assert_allclose(ap, expected_ap, atol=1e-9, equal_nan=True)
        np.testing.assert_array_equal(first_hit, expected_first)


@pytest.mark.gpu
def test_cuda_tensors_are_evaluated_on_the_gpu_with_the_same_result():
    rng = np.random.default_rng(8)
    distmat, *labels = random_problem(rng, 64, 300, 12, 4, distractor_share=0.2)
    expected = evaluate_rank(distmat, *labels)
    on_gpu = evaluate_rank(torch.from_numpy(distmat).cuda(), *[torch.as_tensor(v).cuda() for v in labels])
    np.testing.assert_allclose(on_gpu.ap, expected.ap, atol=1e-12, equal_nan=True)
    np.testing.assert_array_equal(on_gpu.first_hit, expected.first_hit)


def test_the_input_distance_matrix_is_left_untouched():
    rng = np.random.default_rng(9)
    distmat, *labels = random_problem(rng, 10, 30, 4, 2)
    before = distmat.copy()
    evaluate_rank(distmat, *labels)
    np.testing.assert_array_equal(distmat, before)


@pytest.mark.parametrize("change, message", [
    (lambda p: (p[0][:, :-1], *p[1:]), "g_pids: has 30 entries but the distance matrix needs 29"),
    (lambda p: (p[0], p[1][:-1], *p[2:]), "q_pids: has 9 entries"),
    (lambda p: (p[0], p[1], p[2], p[3], p[4][:5]), "g_camids: has 5 entries"),
    (lambda p: (p[0], p[1], p[2], p[3][:, None], p[4]), "q_camids: expected a 1-D array"),
    (lambda p: (p[0][0], *p[1:]), "distmat: expected a 2-D"),
    (lambda p: (np.zeros((10, 0)), p[1], p[2][:0], p[3], p[4][:0]), "the gallery is empty"),
    (lambda p: (p[0], p[1] + 0.5, *p[2:]), "q_pids: expected integer labels"),
    (lambda p: (p[0] > 0.5, *p[1:]), "distmat: expected real distances"),
])
def test_malformed_input_raises_an_input_error_naming_the_argument(change, message):
    rng = np.random.default_rng(10)
    problem = random_problem(rng, 10, 30, 4, 2)
    with pytest.raises(InputError, match=message):
        evaluate_rank(*change(problem))


@pytest.mark.parametrize("bad_value", [np.nan, np.inf, -np.inf])
def test_non_finite_distances_raise_an_input_error_naming_the_entry(bad_value):
    rng = np.random.default_rng(11)
    distmat, *labels = random_problem(rng, 10, 30, 4, 2)
    distmat[7, 3] = bad_value
    with pytest.raises(InputError, match="non-finite distance .* at query 7, gallery 3"):
        evaluate_rank(distmat, *labels, chunk_bytes=1)
    with pytest.raises(InputError, match="at query 7, gallery 3"):
        evaluate_rank(torch.from_numpy(distmat), *labels)


def test_invalid_max_rank_is_rejected():
    rng = np.random.default_rng(12)
    problem = random_problem(rng, 5, 10, 2, 2)
    for max_rank in (0, -3, 2.5, True):
        with pytest.raises(InputError, match="max_rank"):
            evaluate_rank(*problem, max_rank=max_rank)


def test_input_error_is_a_value_error_for_callers_that_catch_those():
    with pytest.raises(ValueError):
        evaluate_rank(np.zeros((2, 3)), [1, 2], [1, 2], [0, 0], [0, 0, 0])


def test_result_is_a_plain_frozen_record():
    result = evaluate_rank(np.array([[0.1, 0.2]]), [1], [1, 2], [0], [1, 1])
    assert isinstance(result, RankResult) and result.mAP == 1.0 and result.num_valid == 1
    with pytest.raises(AttributeError):
        result.mAP = 0.5


@pytest.mark.slow
def test_a_20000_by_20000_problem_needs_well_under_2_gb_of_working_memory():
    import tracemalloc

    rng = np.random.default_rng(13)
    distmat = rng.random((20_000, 20_000), dtype=np.float32)
    labels = (rng.integers(0, 1500, 20_000), rng.integers(0, 1500, 20_000),
              rng.integers(0, 8, 20_000), rng.integers(0, 8, 20_000))
    tracemalloc.start()
    try:
        result = evaluate_rank(distmat, *labels)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.num_valid > 0
    assert peak < 2 * 2**30 - distmat.nbytes, f"working memory peaked at {peak / 2**20:.0f} MiB"
