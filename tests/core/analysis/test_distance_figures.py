"""Distance figures: the distances recomputed from an eval folder are the ones its ranking used
(cosine or re-ranked), the two-panel figure is written as PNG + PDF, and `scing figures` works."""

from __future__ import annotations

import numpy as np
import pytest

from scing_core.analysis.distance_figures import distance_figures, eval_distances
from scing_core.errors import RunDirError
from scing_core.evaluation import evaluate_features, load_eval_artifacts, save_eval_artifacts


def stored_topk_matches(artifacts, distmat) -> None:
    rows = np.arange(len(distmat))[:, None]
    np.testing.assert_allclose(distmat[rows, artifacts.topk_indices], artifacts.topk_distances, atol=1e-5)
    assert np.all(np.sort(distmat, axis=1)[:, : artifacts.topk_distances.shape[1]] >= artifacts.topk_distances[:, :1] - 1e-5)


def test_recomputed_distances_are_those_the_eval_ranked_with(tiny_runs):
    artifacts = load_eval_artifacts(tiny_runs["scing"] / "eval" / "synthped")
    stored_topk_matches(artifacts, eval_distances(artifacts))


def test_re_ranked_eval_folders_are_plotted_with_re_ranked_distances(tiny_runs, tmp_path):
    source = load_eval_artifacts(tiny_runs["cocoop"] / "eval" / "synthped")
    distmat, result = evaluate_features(source.query, source.gallery, rerank=True)
    folder = save_eval_artifacts(tmp_path / "synthped_rerank", source.query, source.gallery, distmat, result,
                                 extra_metrics={"rerank": True})
    artifacts = load_eval_artifacts(folder)
    recomputed = eval_distances(artifacts)
    np.testing.assert_allclose(recomputed, distmat, atol=1e-6)
    stored_topk_matches(artifacts, recomputed)


@pytest.mark.parametrize("method", ["clipreid", "cocoop", "scing"])
def test_distance_figures_write_png_and_pdf_for_each_tiny_run(tiny_runs, tmp_path, method):
    png = distance_figures(tiny_runs[method] / "eval" / "synthped", tmp_path / f"{method}.png")
    assert png == tmp_path / f"{method}.png"
    assert png.stat().st_size > 0 and png.with_suffix(".pdf").stat().st_size > 0


def test_a_run_directory_instead_of_an_eval_folder_is_explained(tiny_runs, tmp_path):
    with pytest.raises(RunDirError, match="eval/<dataset>.*synthped"):
        distance_figures(tiny_runs["scing"], tmp_path / "d.png")


def test_figures_command_end_to_end(tiny_runs, tmp_path, capsys):
    from scing_core.cli import main as scing

    out = tmp_path / "figs" / "distances.pdf"
    assert scing(["figures", "--eval-dir", str(tiny_runs["clipreid"] / "eval" / "synthped"), "--out", str(out)]) == 0
    assert out.exists() and out.with_suffix(".png").exists()
    assert "distances.png" in capsys.readouterr().out
    assert scing(["figures", "--eval-dir", str(tmp_path / "missing"), "--out", str(out)]) == 2
