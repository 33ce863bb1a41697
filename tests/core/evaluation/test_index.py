"""topk_search: brute force, exact FAISS and IVF agree where they must."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from scing_core.errors import InputError
from scing_core.evaluation import compute_distance, topk_search
from scing_core.evaluation import index as index_module


def features(seed, num_query=40, num_gallery=500, dim=32):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(num_query, dim)).astype(np.float32), rng.normal(size=(num_gallery, dim)).astype(np.float32)


def test_exact_faiss_returns_the_same_top_k_as_brute_force():
    qf, gf = features(0)
    brute = topk_search(qf, gf, 25, method="brute")
    flat = topk_search(qf, gf, 25, method="faiss")
    np.testing.assert_array_equal(flat.indices, brute.indices)
    np.testing.assert_allclose(flat.distances, brute.distances, atol=1e-5)


def test_brute_force_top_k_is_the_head_of_the_full_cosine_ranking():
    qf, gf = features(1, num_query=8, num_gallery=60)
    result = topk_search(torch.from_numpy(qf), torch.from_numpy(gf), 10, method="brute", batch_size=3)
    full = compute_distance(qf, gf).numpy()
    np.testing.assert_array_equal(result.indices, np.argsort(full, axis=1)[:, :10])
    np.testing.assert_allclose(result.distances, np.sort(full, axis=1)[:, :10], atol=1e-6)
    assert (np.diff(result.distances, axis=1) >= 0).all()


def test_ivf_probing_every_cell_is_exact_and_probing_few_is_close():
    qf, gf = features(2, num_query=30, num_gallery=2000)
    exact = topk_search(qf, gf, 10, method="faiss")
    every_cell = topk_search(qf, gf, 10, method="ivf", nlist=16, nprobe=16)
    np.testing.assert_array_equal(every_cell.indices, exact.indices)
    approximate = topk_search(qf, gf, 10, method="ivf", nlist=16, nprobe=4)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(approximate.indices, exact.indices)])
    assert recall > 0.5


def test_auto_uses_faiss_only_beyond_the_gallery_size_threshold(monkeypatch):
    qf, gf = features(3, num_query=4, num_gallery=100)
    calls = []
    real_flat = index_module._search_flat
    monkeypatch.setattr(index_module, "_search_flat", lambda *args: calls.append("faiss") or real_flat(*args))
    topk_search(qf, gf, 5, method="auto", auto_threshold=100)
    assert calls == []
    topk_search(qf, gf, 5, method="auto", auto_threshold=99)
    assert calls == ["faiss"]


def test_k_is_capped_at_the_gallery_size():
    qf, gf = features(4, num_query=3, num_gallery=7)
    for method in ("brute", "faiss"):
        result = topk_search(qf, gf, 50, method=method)
        assert result.indices.shape == (3, 7) and sorted(result.indices[0]) == list(range(7))


def test_default_ivf_cell_count_leaves_enough_points_to_train_each_cell():
    assert index_module.default_nlist(100) == 2
    assert index_module.default_nlist(1_000_000) == 4000
    assert index_module.default_nlist(10) == 1


@pytest.mark.parametrize("kwargs, message", [
    ({"method": "hnsw"}, "unknown search 'hnsw'"),
    ({"k": 0}, "k: expected a positive integer"),
    ({"method": "ivf", "nlist": 1000}, "nlist: expected 1..50"),
    ({"method": "ivf", "nprobe": 0}, "nprobe"),
    ({"gf": np.zeros((50, 3), dtype=np.float32)}, "qf has 8 feature dimensions but gf has 3"),
])
def test_bad_arguments_raise_input_errors(kwargs, message):
    arguments = {"qf": np.ones((2, 8), dtype=np.float32), "gf": np.ones((50, 8), dtype=np.float32), "k": 3} | kwargs
    with pytest.raises(InputError, match=message):
        topk_search(**arguments)
