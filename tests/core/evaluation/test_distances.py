"""compute_distance: cosine / Euclidean on L2-normalised features, batched."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from scing_core.errors import InputError
from scing_core.evaluation import compute_distance


def unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_cosine_distance_is_one_minus_the_cosine_of_the_raw_features():
    rng = np.random.default_rng(0)
    qf, gf = rng.normal(size=(7, 16)) * 5, rng.normal(size=(11, 16))
    distances = compute_distance(qf, gf)
    assert distances.dtype == torch.float32 and distances.shape == (7, 11)
    np.testing.assert_allclose(distances.numpy(), 1 - unit(qf) @ unit(gf).T, atol=1e-6)


def test_euclidean_distance_is_the_distance_between_unit_vectors_not_its_square():
    rng = np.random.default_rng(1)
    qf, gf = rng.normal(size=(5, 8)), rng.normal(size=(9, 8)) * 3
    expected = np.linalg.norm(unit(qf)[:, None, :] - unit(gf)[None, :, :], axis=2)
    np.testing.assert_allclose(compute_distance(qf, gf, metric="euclidean").numpy(), expected, atol=1e-5)
    raw = np.linalg.norm(qf[:, None, :] - gf[None, :, :], axis=2)
    np.testing.assert_allclose(compute_distance(qf, gf, metric="euclidean", normalize=False).numpy(), raw, atol=1e-4)


def test_batch_size_does_not_change_the_distances():
    rng = np.random.default_rng(2)
    qf, gf = torch.from_numpy(rng.normal(size=(23, 12))).float(), torch.from_numpy(rng.normal(size=(31, 12))).float()
    for metric in ("cosine", "euclidean"):
        whole = compute_distance(qf, gf, metric=metric, batch_size=1000)
        torch.testing.assert_close(compute_distance(qf, gf, metric=metric, batch_size=4), whole)


def test_both_metrics_rank_the_gallery_identically():
    rng = np.random.default_rng(3)
    qf, gf = rng.normal(size=(6, 10)), rng.normal(size=(40, 10))
    cosine = compute_distance(qf, gf).numpy()
    euclidean = compute_distance(qf, gf, metric="euclidean").numpy()
    np.testing.assert_array_equal(np.argsort(cosine, axis=1), np.argsort(euclidean, axis=1))


def test_the_input_features_are_not_modified():
    qf = torch.full((2, 3), 2.0)
    compute_distance(qf, qf.clone())
    assert torch.equal(qf, torch.full((2, 3), 2.0))


@pytest.mark.parametrize("kwargs, message", [
    ({"metric": "manhattan"}, "unknown distance 'manhattan'"),
    ({"batch_size": 0}, "batch_size"),
    ({"gf": np.zeros((3, 5))}, "qf has 4 feature dimensions but gf has 5"),
    ({"qf": np.zeros(4)}, "qf: expected a 2-D"),
    ({"gf": np.full((2, 4), np.nan)}, "gf: the features contain NaN"),
    ({"qf": np.zeros((0, 4))}, "qf: the feature matrix is empty"),
    ({"qf": [[1.0, 2.0, 3.0, 4.0]]}, "qf: expected a \\(N, D\\) numpy array or torch tensor"),
])
def test_bad_arguments_raise_input_errors(kwargs, message):
    arguments = {"qf": np.ones((2, 4)), "gf": np.ones((3, 4))} | kwargs
    with pytest.raises(InputError, match=message):
        compute_distance(**arguments)
