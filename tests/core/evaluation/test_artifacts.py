"""Eval folder: evaluate_features, save_eval_artifacts and load_eval_artifacts round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from scing_core.errors import InputError, RunDirError
from scing_core.evaluation import (
    FeatureSet,
    compute_distance,
    evaluate_features,
    evaluate_rank,
    k_reciprocal_rerank,
    load_eval_artifacts,
    save_eval_artifacts,
)
from scing_core.evaluation.artifacts import ARTIFACT_FILES, topk_lists


def feature_sets(seed=0, num_query=12, num_gallery=40, dim=8):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(5, dim))
    q_pids, g_pids = rng.integers(0, 5, num_query), rng.integers(0, 5, num_gallery)

    def make(pids, split):
        features = torch.from_numpy(centres[pids] + 0.7 * rng.normal(size=(len(pids), dim))).float()
        camids = rng.integers(0, 3, len(pids))
        return FeatureSet(features, pids, camids, [f"/data/{split}/{i:04d}.jpg" for i in range(len(pids))])

    return make(q_pids, "query"), make(g_pids, "gallery")


def test_evaluate_features_ranks_cosine_distances_and_optionally_re_ranked_ones():
    query, gallery = feature_sets()
    distmat, result = evaluate_features(query, gallery)
    np.testing.assert_allclose(distmat, compute_distance(query.features, gallery.features).numpy())
    expected = evaluate_rank(distmat, query.pids, gallery.pids, query.camids, gallery.camids)
    assert result.mAP == expected.mAP
    reranked, reranked_result = evaluate_features(query, gallery, rerank=True, max_rank=5)
    np.testing.assert_allclose(reranked, k_reciprocal_rerank(query.features, gallery.features))
    assert reranked_result.cmc.shape == (5,)


def test_top_k_lists_are_the_head_of_a_stable_sort_of_each_row():
    rng = np.random.default_rng(1)
    distmat = rng.integers(0, 6, (9, 30)).astype(np.float32)  # many ties
    indices, distances = topk_lists(distmat, 30, chunk_bytes=1)
    np.testing.assert_array_equal(indices, np.argsort(distmat, axis=1, kind="stable"))
    head, head_distances = topk_lists(distmat, 7)
    np.testing.assert_array_equal(head_distances, np.sort(distmat, axis=1)[:, :7])
    assert indices.dtype == np.int64 and distances.dtype == np.float32
    np.testing.assert_array_equal(np.take_along_axis(distmat, head, axis=1), head_distances)


def test_saved_folder_loads_back_without_recomputing(tmp_path):
    query, gallery = feature_sets(2)
    distmat, result = evaluate_features(query, gallery)
    folder = save_eval_artifacts(tmp_path / "eval" / "synthped", query, gallery, distmat, result, topk=10,
                                 extra_metrics={"checkpoint": "best", "rerank": False})
    assert sorted(path.name for path in folder.iterdir()) == sorted(ARTIFACT_FILES)  # no temp files left
    loaded = load_eval_artifacts(folder)
    torch.testing.assert_close(loaded.query.features, query.features)
    torch.testing.assert_close(loaded.gallery.features, gallery.features)
    assert loaded.gallery.paths == gallery.paths
    np.testing.assert_array_equal(loaded.query.pids, query.pids)
    np.testing.assert_array_equal(loaded.gallery.camids, gallery.camids)
    expected_indices, expected_distances = topk_lists(distmat, 10)
    np.testing.assert_array_equal(loaded.topk_indices, expected_indices)
    np.testing.assert_array_equal(loaded.topk_distances, expected_distances)
    np.testing.assert_array_equal(loaded.ap, result.ap)
    np.testing.assert_array_equal(loaded.first_hit, result.first_hit)
    assert loaded.metrics["mAP"] == pytest.approx(result.mAP)
    assert loaded.metrics["R1"] == pytest.approx(result.cmc[0]) and loaded.metrics["R10"] == pytest.approx(result.cmc[9])
    assert loaded.metrics["num_valid"] == result.num_valid and loaded.metrics["checkpoint"] == "best"
    assert (loaded.metrics["num_query"], loaded.metrics["num_gallery"], loaded.metrics["topk"]) == (12, 40, 10)


def test_junk_flags_mark_top_k_entries_with_the_query_pid_and_camera(tmp_path):
    query, gallery = feature_sets(3)
    distmat, result = evaluate_features(query, gallery)
    loaded = load_eval_artifacts(save_eval_artifacts(tmp_path, query, gallery, distmat, result, topk=40))
    for q in range(len(query)):
        for slot, g in enumerate(loaded.topk_indices[q]):
            expected = gallery.pids[g] == query.pids[q] and gallery.camids[g] == query.camids[q]
            assert loaded.topk_junk[q, slot] == expected
    # the first true match after skipping junk sits at first_hit among the non-junk entries
    for q in np.flatnonzero(result.first_hit >= 0):
        kept = loaded.topk_indices[q][~loaded.topk_junk[q]]
        assert gallery.pids[kept[result.first_hit[q]]] == query.pids[q]
        assert not (gallery.pids[kept[:result.first_hit[q]]] == query.pids[q]).any()


def test_a_missing_file_is_named_in_the_error(tmp_path):
    query, gallery = feature_sets(4)
    distmat, result = evaluate_features(query, gallery)
    folder = save_eval_artifacts(tmp_path, query, gallery, distmat, result)
    (folder / "topk_junk.npy").unlink()
    with pytest.raises(RunDirError, match="missing topk_junk.npy"):
        load_eval_artifacts(folder)
    with pytest.raises(RunDirError, match="nowhere does not exist; eval folders are RUN_DIR/eval/<dataset>"):
        load_eval_artifacts(tmp_path / "nowhere")


def test_corrupt_or_inconsistent_files_raise_run_dir_errors(tmp_path):
    query, gallery = feature_sets(5)
    distmat, result = evaluate_features(query, gallery)
    folder = save_eval_artifacts(tmp_path, query, gallery, distmat, result)
    (folder / "metrics.json").write_text("{not json")
    with pytest.raises(RunDirError, match="cannot read .*metrics.json"):
        load_eval_artifacts(folder)
    save_eval_artifacts(folder, query, gallery, distmat, result)
    np.save(folder / "topk_indices.npy", np.zeros((3, 5), dtype=np.int64))
    with pytest.raises(RunDirError, match="inconsistent"):
        load_eval_artifacts(folder)
    save_eval_artifacts(folder, query, gallery, distmat, result)
    labels = json.loads((folder / "query.json").read_text())
    (folder / "query.json").write_text(json.dumps(labels | {"pids": labels["pids"][:-1]}))
    with pytest.raises(RunDirError, match="does not match query_features.npy"):
        load_eval_artifacts(folder)


def test_saving_rejects_mismatched_inputs_and_clashing_extra_metrics(tmp_path):
    query, gallery = feature_sets(6)
    distmat, result = evaluate_features(query, gallery)
    with pytest.raises(InputError, match="distmat has shape"):
        save_eval_artifacts(tmp_path, query, gallery, distmat[:, :-1], result)
    with pytest.raises(InputError, match="would overwrite mAP"):
        save_eval_artifacts(tmp_path, query, gallery, distmat, result, extra_metrics={"mAP": 1.0})
    assert not any(tmp_path.iterdir())
