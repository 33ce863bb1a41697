"""Modality gap (paper Fig. 1): metrics against hand-computed values, the joint projection, the UMAP
machinery (numba cache, one fit at a time), embeddings of tiny runs, the figure and `scing gap`."""

from __future__ import annotations

import math
import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from scing_core.analysis import projection
from scing_core.analysis.modality_gap import (
    GapResult,
    collect_gap_embeddings,
    gap_figure,
    gap_metrics,
    project_2d,
)
from scing_core.analysis.projection import pca_2d
from scing_core.runs.trained import load_prototypes
from scing_core.errors import InputError

from tests.support import strict_json

REPO = Path(__file__).resolve().parents[3]


def toy_result(**overrides) -> GapResult:
    """Two identities x 3 images near the x axis, their two prototypes near the y axis (4-d)."""
    rng = np.random.default_rng(0)
    pids = np.array([1, 1, 1, 2, 2, 2])
    images = np.array([[1.0, 0.0, 0.3, 0.0]] * 3 + [[1.0, 0.0, -0.3, 0.0]] * 3) + 0.05 * rng.normal(size=(6, 4))
    prototypes = {1: [0.0, 1.0, 0.0, 0.3], 2: [0.0, 1.0, 0.0, -0.3]}
    texts = np.array([prototypes[p] for p in pids])
    fields = dict(run="/runs/toy", method="scing", image_emb=images, text_emb=texts, pids=pids,
                  text_kind="prototype", metrics=gap_metrics(images, texts, pids))
    return GapResult(**{**fields, **overrides})


# -- metrics ---------------------------------------------------------------------------------------

def test_gap_metrics_match_hand_computed_values_on_two_identities():
    # after L2 normalisation: images (1, 0), (0, 1); texts (1, 1)/sqrt2, (0, -1)
    images = np.array([[1.0, 0.0], [0.0, 2.0]])
    texts = np.array([[1.0, 1.0], [0.0, -3.0]])
    metrics = gap_metrics(images, texts, np.array([7, 9]))
    r = 1 / math.sqrt(2)
    # paired cosines r and -1 -> distances 1 - r and 2
    assert metrics["mean_paired_cosine_distance"] == pytest.approx((1 - r + 2) / 2)
    # centroids (0.5, 0.5) and (r/2, (r - 1)/2)
    assert metrics["centroid_gap"] == pytest.approx(math.hypot(0.5 - r / 2, 0.5 - (r - 1) / 2))
    # image 0's nearest text is text 0 (own id); image 1's is text 0 too (cos r vs -1): wrong id
    assert metrics["i2t_r1"] == pytest.approx(0.5)
    assert (metrics["num_images"], metrics["num_ids"]) == (2, 2)


def test_gap_metrics_show_no_gap_when_texts_coincide_with_images():
    images = np.array([[3.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    metrics = gap_metrics(images, images / 2, np.array([0, 1, 2]))
    assert metrics["mean_paired_cosine_distance"] == pytest.approx(0.0, abs=1e-12)
    assert metrics["centroid_gap"] == pytest.approx(0.0, abs=1e-12)
    assert metrics["i2t_r1"] == 1.0


def test_gap_metrics_reject_unpaired_or_degenerate_inputs():
    with pytest.raises(InputError, match="same shape"):
        gap_metrics(np.ones((3, 2)), np.ones((2, 2)), [0, 1, 2])
    with pytest.raises(InputError, match="pids"):
        gap_metrics(np.ones((2, 2)), np.ones((2, 2)), [0])
    with pytest.raises(InputError, match="all-zero"):
        gap_metrics(np.array([[1.0, 0.0], [0.0, 0.0]]), np.ones((2, 2)), [0, 1])


# -- projection ------------------------------------------------------------------------------------

def test_project_2d_projects_images_and_texts_jointly():
    result = toy_result()
    (projected,) = project_2d(result, method="pca")
    images = result.image_emb / np.linalg.norm(result.image_emb, axis=1, keepdims=True)
    unique_texts = np.unique(result.text_emb / np.linalg.norm(result.text_emb, axis=1, keepdims=True), axis=0)
    joint = pca_2d(np.vstack([images, unique_texts]))
    np.testing.assert_allclose(projected.image_xy, joint[:6])
    # one shared coordinate system: the image and text clouds sit apart along the first component
    gap = np.linalg.norm(projected.image_xy.mean(axis=0) - projected.text_xy.mean(axis=0))
    assert gap > 1.0  # a separate projection per modality would centre both clouds on the origin
    # an identity's prototype, repeated for each of its images, is one point
    assert np.allclose(projected.text_xy[0], projected.text_xy[1]) and np.allclose(projected.text_xy[3], projected.text_xy[5])
    assert projected.projection == "pca" and result.image_xy is None  # the input is left as it was


def test_pca_2d_keeps_distances_of_points_on_a_plane():
    rng = np.random.default_rng(1)
    plane = rng.normal(size=(10, 2)) @ np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]]) + 4.0
    coords = pca_2d(plane)
    original = np.linalg.norm(plane[:, None] - plane[None], axis=-1)
    projected = np.linalg.norm(coords[:, None] - coords[None], axis=-1)
    np.testing.assert_allclose(projected, original, atol=1e-9)


def test_unknown_projection_is_refused_with_the_choices():
    with pytest.raises(InputError, match="umap, pca, tsne"):
        project_2d(toy_result(), method="mds")


def test_tsne_projects_jointly_and_keeps_pairs_apart_from_one_another():
    result = project_2d(toy_result(), method="tsne")[0]
    assert result.image_xy.shape == (len(result.image_emb), 2) and result.projection == "tsne"
    assert np.isfinite(result.text_xy).all()


def test_numba_cache_lives_in_the_user_cache_not_the_repository(monkeypatch):
    folder = Path(os.environ["NUMBA_CACHE_DIR"]).resolve()
    assert REPO not in folder.parents and folder != REPO
    monkeypatch.setenv("NUMBA_CACHE_DIR", "/tmp/my-numba-cache")
    assert projection.configure_numba_cache() == "/tmp/my-numba-cache"  # a user's own choice is kept


def test_two_umap_fits_never_run_at_the_same_time(monkeypatch):
    active, peak, lock = [0], [0], threading.Lock()

    class RecordingUMAP:
        def __init__(self, **kwargs):
            self.kwargs = kwargs

        def fit_transform(self, data):
            with lock:
                active[0] += 1
                peak[0] = max(peak[0], active[0])
            time.sleep(0.05)
            with lock:
                active[0] -= 1
            return np.zeros((len(data), 2))

    monkeypatch.setattr(projection, "_umap_class", lambda: RecordingUMAP)
    points = np.random.default_rng(0).normal(size=(12, 4))
    threads = [threading.Thread(target=projection.umap_2d, args=(points,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak[0] == 1


@pytest.mark.slow
def test_umap_projection_is_finite_and_reproducible_on_a_tiny_input():
    thread = projection.warm_up_umap(background=True)
    if thread is not None:
        thread.join(timeout=600)
    assert projection.umap_is_warm()
    assert projection.warm_up_umap(background=True) is None  # compiled once per process
    first, second = project_2d([toy_result(), toy_result()], method="umap", seed=3)
    assert first.image_xy.shape == (6, 2) and first.text_xy.shape == (6, 2)
    assert np.isfinite(first.image_xy).all() and np.isfinite(first.text_xy).all()
    np.testing.assert_allclose(first.image_xy, second.image_xy)


# -- tiny runs -------------------------------------------------------------------------------------

def test_conditioned_texts_pair_each_image_with_its_own_prompt(tiny_runs):
    result = collect_gap_embeddings(tiny_runs["scing"], ids=3, images_per_id=2, device="cpu")
    assert result.text_kind == "conditioned" and result.method == "scing"
    assert result.image_emb.shape == result.text_emb.shape == (6, result.image_emb.shape[1])
    assert len(np.unique(result.pids)) == 3 and all(np.sum(result.pids == p) == 2 for p in np.unique(result.pids))
    np.testing.assert_allclose(np.linalg.norm(result.text_emb, axis=1), 1.0, rtol=1e-5)
    assert len(np.unique(result.text_emb.round(6), axis=0)) == 6  # one text per image, not per identity
    assert result.metrics == gap_metrics(result.image_emb, result.text_emb, result.pids)
    # the dataset's own ids beside the training labels: the number the file names carry
    assert [int(Path(path).name.split("_")[0]) for path in result.paths] == result.dataset_pids.tolist()


@pytest.mark.parametrize("method", ["cocoop", "scing"])
def test_conditioned_texts_of_the_stage1_model_average_to_the_runs_prototypes(tiny_runs, method):
    # stage 1 computed each prototype as the normalised mean of the identity's conditioned texts over
    # all its training images; a freshly loaded stage-1 model must give back exactly those texts
    result = collect_gap_embeddings(tiny_runs[method], ids=3, images_per_id=None, checkpoint="stage1", device="cpu")
    prototypes = torch.nn.functional.normalize(load_prototypes(tiny_runs[method]).float(), dim=-1).numpy()
    for pid in np.unique(result.pids):
        mean = result.text_emb[result.pids == pid].mean(axis=0)
        np.testing.assert_allclose(mean / np.linalg.norm(mean), prototypes[pid], atol=1e-5)


def test_prototype_texts_are_the_runs_class_prototypes(tiny_runs):
    result = collect_gap_embeddings(tiny_runs["clipreid"], ids=4, text="auto", device="cpu", seed=2)
    assert result.text_kind == "prototype"
    prototypes = torch.nn.functional.normalize(load_prototypes(tiny_runs["clipreid"]).float(), dim=-1).numpy()
    np.testing.assert_allclose(result.text_emb, prototypes[result.pids], atol=1e-6)
    again = collect_gap_embeddings(tiny_runs["clipreid"], ids=4, device="cpu", seed=2)
    np.testing.assert_array_equal(result.pids, again.pids)  # the seed fixes the identities drawn


def test_conditioned_text_is_refused_for_clipreid(tiny_runs):
    with pytest.raises(InputError, match="prototype"):
        collect_gap_embeddings(tiny_runs["clipreid"], ids=2, text="conditioned", device="cpu")


def test_test_split_pairs_each_identity_with_its_nearest_prototype(tiny_runs):
    result = collect_gap_embeddings(tiny_runs["cocoop"], ids=3, text="prototype", split="test", device="cpu")
    prototypes = torch.nn.functional.normalize(load_prototypes(tiny_runs["cocoop"]).float(), dim=-1).numpy()
    for pid in np.unique(result.pids):
        rows = result.pids == pid
        centre = result.image_emb[rows].mean(axis=0)
        nearest = prototypes[np.argmax(prototypes @ (centre / np.linalg.norm(centre)))]
        np.testing.assert_allclose(result.text_emb[rows], np.tile(nearest, (rows.sum(), 1)), atol=1e-6)


def test_gap_figure_writes_png_and_pdf_and_needs_coordinates(tiny_runs, tmp_path):
    results = [collect_gap_embeddings(tiny_runs[m], ids=3, images_per_id=2, device="cpu") for m in ("clipreid", "scing")]
    with pytest.raises(InputError, match="project_2d"):
        gap_figure(results, tmp_path / "gap.png")
    png = gap_figure(project_2d(results, method="pca"), tmp_path / "gap.png")
    assert png.stat().st_size > 0 and png.with_suffix(".pdf").stat().st_size > 0


def test_gap_command_prints_metrics_per_run_as_json(tiny_runs, tmp_path, capsys):
    from scing_core.cli import main as scing

    out = tmp_path / "figs" / "gap.png"
    code = scing(["gap", "--run-dir", str(tiny_runs["cocoop"]), "--run-dir", str(tiny_runs["scing"]), "--ids", "3",
                  "--images-per-id", "2", "--projection", "pca", "--device", "cpu", "--out", str(out), "--json"])
    assert code == 0
    report = strict_json(capsys.readouterr().out)
    assert set(report) == {"cocoop", "scing"}
    for row in report.values():
        assert row["num_ids"] == 3 and row["text_kind"] == "conditioned"
        assert 0.0 <= row["i2t_r1"] <= 1.0 and row["centroid_gap"] >= 0.0
    assert out.exists() and out.with_suffix(".pdf").exists()


def test_gap_command_reports_a_bad_run_dir_in_one_line(tmp_path, capsys):
    from scing_core.cli import main as scing

    code = scing(["gap", "--run-dir", str(tmp_path / "nowhere"), "--projection", "pca", "--out", str(tmp_path / "g.png")])
    assert code == 2
    assert "not a run directory" in capsys.readouterr().err
