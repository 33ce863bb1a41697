"""Positive / negative pair-distance histograms and the ROC curve of a run's eval artefacts.

Reads an eval folder (``RUN_DIR/eval/<dataset>``, written by ``scing eval`` or at the end of
training) with :func:`~scing_core.evaluation.load_eval_artifacts`, recomputes the query-gallery
distances from the stored features - cosine on L2-normalised features, or the k-reciprocal
re-ranked distances when the folder was written with ``--rerank`` - and plots, side by side and
sized for one paper column:

- the distance densities of positive pairs (same identity, other camera) and negative pairs
  (other identity), each with its mean;
- TAR against FAR over distance thresholds, with the exact AUC.

Pairs follow the evaluation protocol (same identity *and* camera = junk, left out), as
:func:`~scing_core.evaluation.pair_distance_histograms` and :func:`~scing_core.evaluation.roc_curve` do.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from scing_core.analysis.figure_io import COLUMN_WIDTH_IN, paper_style, plt, save_figure
from scing_core.runs.layout import RunDir
from scing_core.errors import RunDirError
from scing_core.evaluation import (
    EvalArtifacts,
    compute_distance,
    k_reciprocal_rerank,
    load_eval_artifacts,
    pair_distance_histograms,
    roc_curve,
)

log = logging.getLogger(__name__)

POSITIVE_COLOUR, NEGATIVE_COLOUR, ROC_COLOUR = "#009E73", "#D55E00", "#0072B2"


def eval_distances(artifacts: EvalArtifacts) -> np.ndarray:
    """Query x gallery distances of an eval folder, as its metrics were computed (re-ranked or cosine)."""
    query, gallery = artifacts.query.features, artifacts.gallery.features
    if artifacts.metrics.get("rerank"):
        return np.asarray(k_reciprocal_rerank(query, gallery))
    return compute_distance(query, gallery, metric="cosine").cpu().numpy()


def distance_figures(eval_dir, out_path, bins: int = 50) -> Path:
    """Two panels from an eval folder - distance histograms and ROC - written as PNG + PDF.

    Returns the PNG path. ``bins``: histogram bins over the range of non-junk distances.
    """
    folder = Path(eval_dir).expanduser()
    if RunDir.holds_run(folder) and not (folder / "query_features.npy").is_file():
        found = RunDir.at(folder).eval_folders()
        hint = f" (it has {', '.join(found)})" if found else " (it has no eval folder yet: run `scing eval`)"
        raise RunDirError(f"{folder} is a run directory; pass one of its eval folders, {folder}/eval/<dataset>{hint}")
    artifacts = load_eval_artifacts(folder)
    distmat = eval_distances(artifacts)
    labels = (artifacts.query.pids, artifacts.gallery.pids, artifacts.query.camids, artifacts.gallery.camids)
    histograms = pair_distance_histograms(distmat, *labels, bins=bins)
    roc = roc_curve(distmat, *labels)
    return _draw(histograms, roc, artifacts.metrics, out_path)


def _draw(histograms, roc, metrics: dict, out_path) -> Path:
    with paper_style():
        fig, (left, right) = plt.subplots(1, 2, figsize=(COLUMN_WIDTH_IN, 1.65),
                                          gridspec_kw={"width_ratios": [1.35, 1.0]})
        _draw_histograms(left, histograms, metrics)
        _draw_roc(right, roc)
        fig.tight_layout(w_pad=1.2)
        return save_figure(fig, out_path)


def _draw_histograms(ax, histograms, metrics: dict) -> None:
    positive, negative = histograms.densities()
    edges = histograms.edges
    peak = float(max(positive.max(initial=0.0), negative.max(initial=0.0), 1e-12))
    for density, colour, name, mean in ((negative, NEGATIVE_COLOUR, "negative", histograms.negative_mean),
                                        (positive, POSITIVE_COLOUR, "positive", histograms.positive_mean)):
        ax.stairs(density, edges, fill=True, color=colour, alpha=0.3, lw=0)
        ax.stairs(density, edges, color=colour, lw=0.8, label=f"{name} pairs, mean {mean:.2f}")
        if np.isfinite(mean):
            ax.vlines(mean, 0, 1.04 * peak, color=colour, lw=0.7, ls="--")
    kind = "re-ranked distance" if metrics.get("rerank") else "cosine distance"
    ax.set_xlabel(kind)
    ax.set_ylabel("density")
    ax.set_xlim(edges[0], edges[-1])
    ax.set_ylim(0, 1.42 * peak)  # headroom for the legend
    ax.legend(loc="upper center", handlelength=1.2, borderaxespad=0.1, fontsize=6, ncol=1)


def _draw_roc(ax, roc) -> None:
    ax.plot([0, 1], [0, 1], color="#B0B0B0", lw=0.6, ls=":")
    ax.plot(roc.far, roc.tar, color=ROC_COLOUR, lw=1.1)
    ax.text(0.97, 0.04, f"AUC {roc.auc:.3f}\nTAR {roc.tar_at_far(0.01):.2f} @ FAR 1%", transform=ax.transAxes,
            ha="right", va="bottom", fontsize=6, color=ROC_COLOUR, linespacing=1.3)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_aspect("equal")
    ax.set_xlabel("FAR")
    ax.set_ylabel("TAR")
    ax.set_xticks([0, 0.5, 1])
    ax.set_yticks([0, 0.5, 1])
