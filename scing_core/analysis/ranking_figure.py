"""Ranked-list figure of an evaluation, the retrieval figure of ReID papers: one row per query, the
query image then its top-k gallery images, framed green (same identity), red (another identity) or
grey (junk: same identity and camera, ignored by the Market-1501 protocol), with rank and distance.

Reads an eval folder (``RUN_DIR/eval/<dataset>``) — its stored top-k lists, junk flags and per-query
AP — and the images its paths name; nothing is recomputed.

    ranking_figure("runs/scing/eval/market1501", "ranks.png", worst=5, k=10)
    ranking_figure(artifacts, "query17.png", queries=[17])
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from scing_core.analysis.figure_io import DOUBLE_COLUMN_IN, paper_style, plt, save_figure
from scing_core.errors import InputError
from scing_core.evaluation import EvalArtifacts, load_eval_artifacts

SAME, DIFFERENT, JUNK = "same", "different", "junk"
FRAME_COLOURS = {"query": "#0072B2", SAME: "#009E73", DIFFERENT: "#D55E00", JUNK: "#999999"}
DEFAULT_WORST = 5


@dataclass(frozen=True)
class RankedHit:
    rank: int          # 1-based position in the stored ranked list (junk included)
    path: str
    pid: int
    camid: int
    distance: float
    kind: str          # same | different | junk


@dataclass(frozen=True)
class RankedRow:
    query_index: int
    path: str
    pid: int
    camid: int
    ap: float          # NaN when the protocol skipped the query (no true match in the gallery)
    first_hit: int     # 0-based rank of the first true match after junk removal, -1 when skipped
    hits: tuple[RankedHit, ...]


def worst_queries(artifacts: EvalArtifacts, n: int) -> list[int]:
    """The ``n`` evaluated queries with the lowest AP (ties: the later first true match first)."""
    evaluated = np.flatnonzero(artifacts.first_hit >= 0)
    order = sorted(evaluated, key=lambda i: (artifacts.ap[i], -artifacts.first_hit[i], i))
    return [int(i) for i in order[:n]]


def ranked_rows(artifacts: EvalArtifacts, query_indices, k: int) -> list[RankedRow]:
    """What each row of the figure shows: the query and its first ``k`` ranked gallery images."""
    stored = int(artifacts.topk_indices.shape[1])
    if not 1 <= k <= stored:
        raise InputError(f"k={k}: the eval folder {artifacts.directory} stores the top-{stored} of each query; "
                         f"choose k between 1 and {stored}")
    q, g = artifacts.query, artifacts.gallery
    rows = []
    for index in query_indices:
        index = int(index)
        if not 0 <= index < len(q.paths):
            raise InputError(f"query {index} does not exist: the eval folder {artifacts.directory} has "
                             f"{len(q.paths)} queries (0..{len(q.paths) - 1})")
        hits = []
        for rank, (gallery, distance, junk) in enumerate(zip(artifacts.topk_indices[index][:k],
                                                             artifacts.topk_distances[index][:k],
                                                             artifacts.topk_junk[index][:k]), start=1):
            pid = int(g.pids[gallery])
            kind = JUNK if junk else SAME if pid == int(q.pids[index]) else DIFFERENT
            hits.append(RankedHit(rank, g.paths[gallery], pid, int(g.camids[gallery]), float(distance), kind))
        rows.append(RankedRow(index, q.paths[index], int(q.pids[index]), int(q.camids[index]),
                              float(artifacts.ap[index]), int(artifacts.first_hit[index]), tuple(hits)))
    return rows


def ranking_figure(eval_dir, out_path, *, queries=None, worst: int | None = None, k: int = 10,
                   title: str | None = None) -> Path:
    """Draw the ranked lists of ``queries`` (indices) or of the ``worst`` queries (default 5) and
    write PNG + PDF; returns the PNG path. ``eval_dir`` is an eval folder or loaded ``EvalArtifacts``."""
    if worst is not None and worst < 1:
        raise InputError(f"worst={worst}: draw at least one query (e.g. --worst 5)")
    artifacts = eval_dir if isinstance(eval_dir, EvalArtifacts) else load_eval_artifacts(eval_dir)
    if queries is None:
        queries = worst_queries(artifacts, worst or DEFAULT_WORST)
    if not len(queries):
        raise InputError(f"no query to draw: {artifacts.directory} has no query with a true match in the gallery")
    rows = ranked_rows(artifacts, queries, k)
    with paper_style():
        return save_figure(_draw(rows, k, title), out_path)


def _draw(rows: list[RankedRow], k: int, title: str | None):
    columns = k + 1
    cell_w = DOUBLE_COLUMN_IN / (columns + 0.4)
    cell_h = 2 * cell_w + 0.32               # person crops are 2:1, plus a caption line
    fig, axes = plt.subplots(len(rows), columns, figsize=(DOUBLE_COLUMN_IN, cell_h * len(rows) + (0.25 if title else 0)),
                             squeeze=False, gridspec_kw={"wspace": 0.08, "hspace": 0.35})
    for r, row in enumerate(rows):
        ap = "skipped" if row.first_hit < 0 else f"AP {100 * row.ap:.1f}"
        _cell(axes[r][0], row.path, "query", f"Q{row.query_index} · id {row.pid}\n{ap}")
        for c, hit in enumerate(row.hits, start=1):
            _cell(axes[r][c], hit.path, hit.kind, f"{hit.rank} · {_distance(hit.distance)}\nid {hit.pid}")
    if title:
        fig.suptitle(title, fontsize=8)
    return fig


def _cell(ax, path: str, kind: str, caption: str) -> None:
    ax.imshow(np.asarray(_load(path)))
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(True)
        spine.set_color(FRAME_COLOURS[kind])
        spine.set_linewidth(2.4)
        if kind == JUNK:
            spine.set_linestyle((0, (2, 1)))
    ax.set_xlabel(caption, fontsize=5.5, labelpad=1.5, linespacing=1.1)


def _load(path: str) -> Image.Image:
    try:
        with Image.open(path) as image:
            return image.convert("RGB").resize((64, 128), Image.BILINEAR)
    except (OSError, ValueError) as error:
        raise InputError(f"cannot read image '{path}' named by the eval folder ({error}); if the dataset moved, "
                         "re-run `scing eval` so the paths match") from None


def _distance(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:.3f}" if abs(value) >= 0.01 else f"{value:.2g}"
