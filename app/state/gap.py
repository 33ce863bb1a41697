"""The Modality-gap panel's request and the metrics table it shows (paper Fig. 1).

``api.collect_gap_embeddings`` gives a ``GapResult`` per run (paired image and text embeddings,
``metrics``), ``api.project_2d`` adds the joint 2-D coordinates; this module validates the request and
turns the metrics into table rows, without Qt.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

PROJECTIONS = ("pca", "umap", "tsne")
TEXT_KINDS = ("auto", "prototype", "conditioned")
SPLITS = ("train", "test")   # test: query + gallery identities (their images open in Retrieval)
# (metrics key, column title, better direction)
METRIC_COLUMNS = (
    ("mean_paired_cosine_distance", "paired cos. distance", "lower"),
    ("centroid_gap", "centroid gap", "lower"),
    ("i2t_r1", "image→text R@1", "higher"),
)


@dataclass(frozen=True)
class GapRequest:
    run_dirs: tuple[Path, ...]
    projection: str = "pca"
    ids: int = 30
    text: str = "auto"
    seed: int = 0
    split: str = "train"

    def problems(self) -> list[str]:
        issues = []
        if not self.run_dirs:
            issues.append("tick at least one run to compare")
        if self.projection not in PROJECTIONS:
            issues.append(f"projection '{self.projection}' is not one of {', '.join(PROJECTIONS)}")
        if self.text not in TEXT_KINDS:
            issues.append(f"text '{self.text}' is not one of {', '.join(TEXT_KINDS)}")
        if self.split not in SPLITS:
            issues.append(f"split '{self.split}' is not one of {', '.join(SPLITS)}")
        if self.ids < 2:
            issues.append("use at least 2 identities (R@1 and the centroid gap need several)")
        return issues


def format_metric(key: str, value) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "—"
    if math.isnan(number):
        return "—"
    return f"{100 * number:.1f}%" if key == "i2t_r1" else f"{number:.3f}"


def metric_rows(results) -> list[list[str]]:
    """One row per ``GapResult``: run, method, text kind, points, then the METRIC_COLUMNS values."""
    rows = []
    for result in results:
        metrics = getattr(result, "metrics", {}) or {}
        points = len(getattr(result, "pids", ()))
        rows.append([run_label(result), str(getattr(result, "method", "")), str(getattr(result, "text_kind", "")),
                     str(points), *(format_metric(key, metrics.get(key)) for key, _, _ in METRIC_COLUMNS)])
    return rows


def run_label(result) -> str:
    """The run folder's name (``GapResult.run`` holds the full path)."""
    return Path(str(result.run)).name


def metric_headers() -> list[str]:
    arrows = {"lower": "↓", "higher": "↑"}
    return ["run", "method", "text", "pairs", *(f"{title} {arrows[better]}" for _, title, better in METRIC_COLUMNS)]


def best_in_column(results, key: str) -> set[int]:
    """Indices of the results with the best value of ``key`` (ties all count; empty with < 2 values)."""
    better = next(b for k, _, b in METRIC_COLUMNS if k == key)
    values = {}
    for i, result in enumerate(results):
        try:
            value = float((getattr(result, "metrics", {}) or {}).get(key))
        except (TypeError, ValueError):
            continue
        if not math.isnan(value):
            values[i] = value
    if len(values) < 2:
        return set()
    best = min(values.values()) if better == "lower" else max(values.values())
    return {i for i, value in values.items() if math.isclose(value, best, rel_tol=1e-9, abs_tol=1e-12)}
