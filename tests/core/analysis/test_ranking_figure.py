"""Ranked-list figure: rows follow the eval folder's stored rankings, frames follow identities and junk."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from scing_core.analysis.ranking_figure import DIFFERENT, JUNK, SAME, ranked_rows, ranking_figure, worst_queries
from scing_core.cli import main as scing
from scing_core.errors import InputError
from scing_core.evaluation import load_eval_artifacts


@pytest.fixture(scope="module")
def artifacts(tiny_runs):
    return load_eval_artifacts(tiny_runs["scing"] / "eval" / "synthped")


def test_worst_queries_are_the_evaluated_ones_with_the_lowest_ap(artifacts):
    worst = worst_queries(artifacts, 4)
    evaluated = np.flatnonzero(artifacts.first_hit >= 0)
    assert len(worst) == 4 and set(worst) <= set(evaluated.tolist())
    assert [artifacts.ap[i] for i in worst] == sorted(artifacts.ap[i] for i in worst)
    assert artifacts.ap[worst[-1]] <= np.sort(artifacts.ap[evaluated])[4]


def test_rows_follow_the_stored_ranking_and_the_protocol(artifacts):
    query = worst_queries(artifacts, 1)[0]
    (row,) = ranked_rows(artifacts, [query], k=6)
    assert row.query_index == query and row.path == artifacts.query.paths[query] and len(row.hits) == 6
    for hit, gallery, junk in zip(row.hits, artifacts.topk_indices[query], artifacts.topk_junk[query]):
        assert hit.path == artifacts.gallery.paths[gallery]
        same = artifacts.gallery.pids[gallery] == artifacts.query.pids[query]
        assert hit.kind == (JUNK if junk else SAME if same else DIFFERENT)
    assert [h.rank for h in row.hits] == [1, 2, 3, 4, 5, 6]
    assert [h.distance for h in row.hits] == sorted(h.distance for h in row.hits)


def test_bad_requests_are_one_clear_error(artifacts):
    stored = artifacts.topk_indices.shape[1]
    with pytest.raises(InputError, match=f"stores the top-{stored}"):
        ranked_rows(artifacts, [0], k=stored + 1)
    with pytest.raises(InputError, match="query 9999 does not exist"):
        ranked_rows(artifacts, [9999], k=3)


def test_wrong_folders_and_counts_say_what_to_pass(tiny_runs, tmp_path, artifacts):
    from scing_core.errors import RunDirError

    run = tiny_runs["scing"]
    with pytest.raises(RunDirError, match="is a run directory, not an eval folder; pass one of its eval folders"):
        ranking_figure(run, tmp_path / "x.png")
    with pytest.raises(RunDirError, match="does not exist"):
        ranking_figure(tmp_path / "nowhere", tmp_path / "x.png")
    with pytest.raises(InputError, match="worst=0"):
        ranking_figure(artifacts, tmp_path / "x.png", worst=0)


def test_figure_and_command_write_png_and_pdf(tiny_runs, tmp_path, artifacts):
    png = ranking_figure(artifacts, tmp_path / "worst.png", worst=2, k=5)
    assert png.is_file() and png.with_suffix(".pdf").is_file()
    width, height = Image.open(png).size
    assert width > height   # two rows of 6 portrait crops: wider than tall
    eval_dir = tiny_runs["scing"] / "eval" / "synthped"
    assert scing(["ranking", "--eval-dir", str(eval_dir), "--query", "0", "--query", "1", "--k", "4",
                  "--out", str(tmp_path / "chosen.png")]) == 0
    assert (tmp_path / "chosen.png").is_file() and (tmp_path / "chosen.pdf").is_file()
    assert scing(["ranking", "--eval-dir", str(eval_dir), "--query", "5000", "--out", str(tmp_path / "x.png")]) == 2
