"""The Modality-gap panel's request and the metrics table it shows (paper Fig. 1).

``api.collect_gap_embeddings`` gives a ``GapResult`` per run (paired image and text embeddings,
``metrics``), ``api.project_2d`` adds the joint 2-D coordinates; this module validates the request and
turns the metrics into table rows, without Qt.

:class:`GapState` is the panel's evented model (:class:`app.state.analysis.AnalysisState`: runs,
computation, errors, results) plus its inputs (``inputs_changed(GapInputs)``), the line about the hovered
point (``hover_changed(str)``) and the UMAP warm-up hint (``umap_status_changed(str)``). A clicked image
point opens what it is (:meth:`GapState.click_of`): a query in Retrieval, any other image in Dataset.
``GapState.selection`` (:class:`app.state.gap_selection.GapSelection`) holds the projector views: colour
by, find, the selected point's nearest neighbours and the lasso. :meth:`GapState.cancel` drops the
computation running (the plots shown stay); :meth:`GapState.reprojectable` says whether only the
projection changed since the plots shown were computed (their embeddings are cached: re-projecting is quick).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

from psygnal import Signal

from app.state.analysis import AnalysisState
from app.state.evented import Placeholder
from app.state.gap_selection import GapSelection
from app.state.gap_view import IMAGE

PROJECTIONS = ("pca", "umap", "tsne")
TEXT_KINDS = ("auto", "prototype", "conditioned")
SPLITS = ("train", "test")   # test: query + gallery identities (their images open in Retrieval)
PROJECTION_LABELS = {"pca": "PCA (instant)", "umap": "UMAP (cosine)", "tsne": "t-SNE (cosine)"}
SPLIT_LABELS = {"train": "training identities", "test": "query + gallery identities"}
INTRO = ("Tick runs and press Compute: each run's image (red) and text (blue) embeddings are projected together; "
         "grey lines join the pairs. A small gap means short lines and overlapping clouds. Hover a point to see "
         "its image; click a point to select it and list its nearest neighbours; double-click an image to open "
         "it: a query in Retrieval, any other image in Dataset.")
HOVER_HINT = "<span style='color:#777'>Hover a point: its image, identity and caption show here. Wheel: zoom · " \
             "drag: pan (or lasso) · click: select · double-click: open.</span>"
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


@dataclass(frozen=True)
class GapClick:
    """What a click on an image point opens: a query of ``eval_folder`` of ``run`` in Retrieval, or (no
    ``eval_folder``: the image is no query of the run) the image in Dataset, read with loader ``dataset``."""

    run: str
    path: str
    eval_folder: str | None
    dataset: str = ""

    @property
    def is_query(self) -> bool:
        return self.eval_folder is not None


@dataclass(frozen=True)
class GapInputs:
    """What the next computation projects, as the panel's inputs show it."""

    projection: str = "pca"
    ids: int = 30
    text: str = "auto"
    split: str = "train"


@dataclass(frozen=True, eq=False)
class GapShown:
    """A computation's plots (``GapView`` per run) and metrics (``GapResult`` per run)."""

    views: list
    results: list


class GapState(AnalysisState):
    """The Modality-gap panel's model: inputs, plots and metrics, the hovered point, the UMAP warm-up."""

    inputs_changed = Signal(object)      # GapInputs
    hover_changed = Signal(str)          # the rich text under the plots
    umap_status_changed = Signal(str)    # the UMAP warm-up hint under the projection

    EVENTED: ClassVar[dict[str, str]] = {**AnalysisState.EVENTED, "inputs": "inputs_changed",
                                         "hover": "hover_changed", "umap_status": "umap_status_changed"}
    start_text = INTRO

    def __init__(self, projections=PROJECTIONS) -> None:
        super().__init__()
        self.inputs = GapInputs(projection=next(iter(projections)))
        self.hover = HOVER_HINT
        self.umap_warm_up = None    # the warm-up's handle (``is_alive()``, optionally ``error()``); None: none
        self.umap_missing = ""      # why UMAP cannot run at all (the analysis extra missing); "": it can
        self.umap_status = ""
        self.selection = GapSelection()
        self.shown_request: GapRequest | None = None     # the request of the plots shown
        self._started_request: GapRequest | None = None

    @property
    def views(self) -> list:
        return self.shown.views if isinstance(self.shown, GapShown) else []

    # -- inputs ---------------------------------------------------------------------------------------------
    def set_inputs(self, **changes) -> None:
        """Change some inputs (``projection``, ``ids``, ``text``, ``split``)."""
        with self._changing():
            self.inputs = replace(self.inputs, **changes)
            self.umap_status = self._umap_text()

    def request(self) -> GapRequest:
        inputs = self.inputs
        return GapRequest(self.checked, inputs.projection, inputs.ids, inputs.text, split=inputs.split)

    def export_payload(self) -> list:
        return list(self.results or [])

    # -- the UMAP warm-up -----------------------------------------------------------------------------------
    def watch_umap_warm_up(self, handle) -> None:
        """Follow a UMAP warm-up (a thread, or the projection process's handle): 'compiling…' while it runs."""
        with self._changing():
            self.umap_warm_up = handle
            self.umap_status = self._umap_text()

    def umap_unavailable(self, reason: str) -> None:
        """UMAP cannot run here (its warm-up could not even start): say so, and that PCA still works."""
        with self._changing():
            self.umap_missing = str(reason)
            self.umap_status = self._umap_text()

    def poll_umap(self) -> bool:
        """Read the warm-up again; True while it still compiles (worth asking again)."""
        with self._changing():
            self.umap_status = self._umap_text()
        return self._umap_compiling()

    def _umap_compiling(self) -> bool:
        return self.umap_warm_up is not None and self.umap_warm_up.is_alive()

    def _umap_text(self) -> str:
        if self.umap_missing:
            return f"UMAP unavailable ({self.umap_missing}); use PCA"
        wants_umap = self.inputs.projection == "umap"
        if self._umap_compiling():
            return ("UMAP is compiling in the background (first use: 15–40 s); a UMAP projection started now waits "
                    "for it." if wants_umap else "UMAP: compiling in the background…")
        failed = getattr(self.umap_warm_up, "error", lambda: "")()
        if failed:
            return f"UMAP warm-up failed ({failed}); a UMAP projection compiles when it starts."
        return "UMAP ready." if self.umap_warm_up is not None and wants_umap else ""

    # -- the plots ------------------------------------------------------------------------------------------
    def set_hovered(self, point, text: str) -> None:
        """The point under the mouse and what it says (``None``: the mouse left the points; the text stays)."""
        if point is not None:
            with self._changing():
                self.hover = f"<b>{Path(point.run).name}</b>{text}"

    def query_of(self, point) -> str:
        """The image file of a clicked image point ('' for a text point or an unknown run)."""
        view = next((v for v in self.views if v.run == point.run), None)
        return view.image_path(point.index) if view is not None and point.kind == IMAGE else ""

    def click_of(self, point) -> GapClick | None:
        """What a click on ``point`` opens (None: a text point, or a run no longer shown)."""
        path = self.query_of(point)
        if not path:
            return None
        view = next(v for v in self.views if v.run == point.run)
        dataset = next((row.dataset for row in self.rows if row.name == Path(point.run).name), "")
        return GapClick(point.run, path, view.query_eval(path), dataset)

    def _clear_inputs(self) -> None:
        self.hover = HOVER_HINT
        self.shown_request = None

    def _started(self, request) -> None:
        self.progress = "collecting embeddings…"
        self._started_request = request

    def cancel(self) -> bool:
        """Drop the computation running (its outcome is ignored when it arrives); the plots shown stay.
        False: none ran."""
        if not self.busy:
            return False
        with self._changing():
            self._ticket += 1
            self.busy = False
            self.progress = "cancelled; the plots shown are those of the last computation"
        return True

    def reprojectable(self) -> bool:
        """Plots are shown, nothing runs, and only the projection differs from what they were computed with."""
        shown = self.shown_request
        if self.busy or shown is None or not isinstance(self.shown, GapShown):
            return False
        request = self.request()
        return request.projection != shown.projection and replace(request, projection=shown.projection) == shown

    def _show_outcome(self, outcome) -> dict:
        if outcome is None:   # its projection was cancelled: the plots shown stay
            self.progress = "cancelled; the plots shown are those of the last computation"
            return {}
        views, results, failed_runs = outcome
        if not results:
            self.progress = ""
            self._show_failure("no run could be used — " + "; ".join(f"{run}: {m}" for run, m in failed_runs.items()))
            return failed_runs
        self.results, self.shown, self.hover = results, GapShown(views, results), HOVER_HINT
        self.shown_request = self._started_request
        projection = self.inputs.projection
        self.progress = f"{len(results)} run(s), {PROJECTION_LABELS.get(projection, projection)}"
        return failed_runs

    def _show_failure(self, message: str) -> None:
        """The error in place of the plots: nothing of an earlier computation stays on screen."""
        self.results, self.hover, self.shown_request = None, HOVER_HINT, None
        self.shown = Placeholder(f"The modality gap could not be computed: {message}", error=True)
