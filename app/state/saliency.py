"""The Saliency panel's request (images × runs, CAM method, target) and the result grid it shows.

A request is validated here, without Qt, so the panel can say what is wrong before any model loads.
Results come back from ``api.compute_saliency`` as ``SaliencyResult`` objects (``image``, ``cam`` in
[0, 1], ``path``, ``run``, ``target``, ``method``, ``person_share``, ``note``); the grid arranges
them rows = images, columns = runs, with one colour scale shared by every cell.

Targets: an identity's text prototype, a pair image's embedding (``image:PATH``), the embedding
norm, or ``pair`` — a query–gallery pair where each image is explained by its similarity to the
other (two core calls, :meth:`SaliencyRequest.parts`). A cell is marked † only when the core fell
back to the nearest prototype (the image's identity has none); other notes go in its tooltip.

:class:`SaliencyState` is the panel's evented model (:class:`app.state.analysis.AnalysisState`: runs,
computation, errors, results) plus its inputs — images, target, pair image, CAM method, checkpoint —
with ``inputs_changed(SaliencyInputs)`` and ``methods_changed(tuple)`` (the CAM methods offered).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import ClassVar

from psygnal import Signal

from app.state.analysis import AnalysisState
from app.state.evented import Placeholder

MAX_IMAGES = 8          # one Grad-CAM pass per image and run; ~1 s each for ViT-B/16 on a laptop CPU
TARGET_KINDS = {
    "prototype": "identity text prototype (cosine)",
    "image": "pair image embedding (cosine)",
    "pair": "query ↔ gallery pair (each vs the other)",
    "norm": "embedding norm",
}
FALLBACK_NOTE = "nearest prototype used"   # the core's note when an identity has no prototype (marked †)
FALLBACK_METHODS = ("gradcam",)             # offered until the CAM methods are loaded
START_TEXT = ("Pick images (or press 'Compare saliency' in the Retrieval tab, or click a gallery tile there), tick "
              "the runs to compare, then Compute saliency.")
FAILED_TEXT = "Saliency could not be computed — see the message above."
NOTHING_EXPLAINED = "No run could be explained — see the message above."
PAIR_READY = "Query–gallery pair ready: tick the runs, then Compute saliency."


@dataclass(frozen=True)
class SaliencyRequest:
    """What to compute: ``target`` is ``prototype``, ``norm``, ``image:PATH`` or ``pair`` (two images)."""

    image_paths: tuple[str, ...]
    run_dirs: tuple[Path, ...]
    method: str = "gradcam"
    target: str = "prototype"
    checkpoint: str = "selected"

    def problems(self) -> list[str]:
        """Everything wrong with the request, each as a sentence that says how to fix it."""
        issues = []
        if not self.image_paths:
            issues.append("add at least one image (Add files…, or 'Compare saliency' in the Retrieval tab)")
        elif len(self.image_paths) > MAX_IMAGES:
            issues.append(f"{len(self.image_paths)} images selected; use at most {MAX_IMAGES} per grid")
        missing = [p for p in self.image_paths if not Path(p).is_file()]
        if missing:
            issues.append(f"image not found: {missing[0]}" + (f" (+{len(missing) - 1} more)" if len(missing) > 1 else ""))
        if not self.run_dirs:
            issues.append("tick at least one run to compare")
        if not self.method:
            issues.append("pick a CAM method")
        kind, _, path = self.target.partition(":")
        if kind not in TARGET_KINDS or (kind == "image") != bool(path):
            issues.append(f"target '{self.target}' is not one of prototype, norm, image:PATH, pair")
        elif kind == "image" and not Path(path).is_file():
            issues.append(f"pair image not found: {path}")
        elif kind == "pair" and len(self.image_paths) != 2:
            issues.append(f"the pair target explains two images (a query and a gallery image), not "
                          f"{len(self.image_paths)}")
        return issues

    def parts(self) -> list["SaliencyRequest"]:
        """The core calls the request needs: itself, or for a pair one per image, each targeting the other."""
        if self.target != "pair" or len(self.image_paths) != 2:
            return [self]
        first, second = self.image_paths
        return [replace(self, image_paths=(first,), target=pair_target(second)),
                replace(self, image_paths=(second,), target=pair_target(first))]


def pair_target(path: str | Path) -> str:
    """The target string for 'similarity to this image'."""
    return f"image:{path}"


@dataclass(eq=False)
class SaliencyGrid:
    """Results arranged rows = images, columns = runs, with the shared colour range (each grid its own:
    compared by identity)."""

    image_paths: list[str]
    run_names: list[str]
    cells: dict[tuple[int, int], object] = field(default_factory=dict)   # (row, col) -> SaliencyResult
    vmin: float = 0.0
    vmax: float = 1.0

    @classmethod
    def from_results(cls, results_by_run: dict[str, list]) -> "SaliencyGrid":
        """Arrange ``{run name: [SaliencyResult, ...]}``; rows follow the first appearance of each path."""
        paths: list[str] = []
        for results in results_by_run.values():
            for result in results:
                if str(result.path) not in paths:
                    paths.append(str(result.path))
        grid = cls(paths, list(results_by_run))
        for col, results in enumerate(results_by_run.values()):
            for result in results:
                grid.cells[(paths.index(str(result.path)), col)] = result
        maxima = [float(result.cam.max()) for result in grid.cells.values() if result.cam.size]
        minima = [float(result.cam.min()) for result in grid.cells.values() if result.cam.size]
        if maxima:
            grid.vmin, grid.vmax = min(0.0, min(minima)), max(maxima)
        if grid.vmax <= grid.vmin:
            grid.vmax = grid.vmin + 1.0
        return grid

    def cell(self, row: int, col: int):
        return self.cells.get((row, col))

    def caption(self, row: int, col: int) -> str:
        """'person share 0.62' (or why there is none) for under the cell; '†' marks a note (see :meth:`note`)."""
        result = self.cell(row, col)
        if result is None:
            return "not computed"
        share = getattr(result, "person_share", None)
        if share is None:
            text = "person share n/a (no mask)"
        elif math.isnan(share):
            text = "person share n/a (zero map)"
        else:
            text = f"person share {share:.2f}"
        return text + (" †" if self.fell_back(row, col) else "")

    def note(self, row: int, col: int) -> str:
        """The result's note (e.g. 'not a training identity: nearest prototype used'), '' if none."""
        result = self.cell(row, col)
        return str(getattr(result, "note", "") or "") if result is not None else ""

    def fell_back(self, row: int, col: int) -> bool:
        """The core used the nearest prototype: the image's identity has no text prototype (†)."""
        return FALLBACK_NOTE in self.note(row, col)

    @property
    def has_notes(self) -> bool:
        return any(self.note(r, c) for r, c in self.cells)

    @property
    def has_fallbacks(self) -> bool:
        """Some cell is marked † (the grid then shows what † means)."""
        return any(self.fell_back(r, c) for r, c in self.cells)

    def row_target(self, row: int) -> str:
        """What the row's images were explained by: 'vs <file name>' for a pair image, else ''."""
        result = next((self.cells[(row, c)] for c in range(len(self.run_names)) if (row, c) in self.cells), None)
        target = str(getattr(result, "target", "") or "")
        return f"vs {Path(target.partition(':')[2]).name}" if target.startswith("image:") else ""

    def mean_person_share(self, col: int) -> float | None:
        """Mean person share of a run's column over the images that have a mask."""
        shares = [self.cells[(r, col)].person_share for r in range(len(self.image_paths)) if (r, col) in self.cells]
        shares = [s for s in shares if s is not None and not math.isnan(s)]   # NaN: an all-zero map
        return sum(shares) / len(shares) if shares else None


def workspace_changed(previous_runs, runs) -> bool:
    """The run list now comes from another workspace (the folders holding the runs differ), so what the
    panel shows belongs to the previous one. A rescan of the same workspace (runs added or gone) is not."""
    before = {Path(run).parent for run in previous_runs}
    after = {Path(run).parent for run in runs}
    return bool(before) and before != after


@dataclass(frozen=True)
class SaliencyInputs:
    """What the next computation explains, as the panel's inputs show it."""

    images: tuple[str, ...] = ()
    pair_image: str = ""          # the pair image's path as typed (the 'image' target)
    target: str = "prototype"     # a TARGET_KINDS key
    method: str = "gradcam"
    checkpoint: str = "selected"


class SaliencyState(AnalysisState):
    """The Saliency panel's model: its inputs, the CAM methods offered, and the grid computed."""

    inputs_changed = Signal(object)    # SaliencyInputs
    methods_changed = Signal(tuple)    # the CAM methods offered

    EVENTED: ClassVar[dict[str, str]] = {**AnalysisState.EVENTED, "methods": "methods_changed",
                                         "inputs": "inputs_changed"}
    start_text = START_TEXT

    def __init__(self) -> None:
        super().__init__()
        self.inputs = SaliencyInputs()
        self.methods: tuple[str, ...] = FALLBACK_METHODS

    # -- inputs ---------------------------------------------------------------------------------------------
    def _change_inputs(self, **changes) -> None:
        with self._changing():
            self.inputs = replace(self.inputs, **changes)

    def set_images(self, paths, pair_with_first: bool = False) -> None:
        """Replace the images (at most MAX_IMAGES); ``pair_with_first``: each is explained by its similarity
        to the first (a query and its top matches: test identities have no text prototype of their own)."""
        paths = [str(path) for path in paths]
        changes = {"images": tuple(paths[:MAX_IMAGES])}
        if pair_with_first and paths:
            changes.update(pair_image=paths[0], target="image")
        self._change_inputs(**changes)

    def suggest_images(self, paths) -> None:
        """Default images, used only while there are none."""
        if not self.inputs.images:
            self.set_images(paths)

    def add_images(self, paths) -> None:
        self._change_inputs(images=self.inputs.images + tuple(str(path) for path in paths))

    def remove_images(self, indices) -> None:
        """Remove the images at list positions ``indices``."""
        drop = set(indices)
        self._change_inputs(images=tuple(path for i, path in enumerate(self.inputs.images) if i not in drop))

    def explain_pair(self, query_path, gallery_path) -> None:
        """A query–gallery pair: both images, each explained by its similarity to the other."""
        with self._changing():
            self.inputs = replace(self.inputs, images=(str(query_path), str(gallery_path)),
                                  pair_image=str(query_path), target="pair")
            self.progress = PAIR_READY

    def set_pair_image(self, text: str) -> None:
        self._change_inputs(pair_image=text)

    def set_target(self, kind: str) -> None:
        self._change_inputs(target=kind)

    def set_method(self, method: str) -> None:
        self._change_inputs(method=method)

    def set_checkpoint(self, checkpoint: str) -> None:
        self._change_inputs(checkpoint=checkpoint)

    def set_methods(self, methods) -> None:
        """The CAM methods the core offers; the method chosen stays when offered, else Grad-CAM."""
        with self._changing():
            self.methods = tuple(methods)
            method = self.inputs.method
            self.inputs = replace(self.inputs, method=method if method in self.methods else "gradcam")

    def _clear_inputs(self) -> None:
        """Another workspace: its images, pair image and the target they were chosen for go; the target is
        the default again (a pair or pair-image target without its images cannot be computed)."""
        self.inputs = replace(self.inputs, images=(), pair_image="", target=SaliencyInputs.target)

    def _switches_workspace(self, path, rows) -> bool:
        return path != self.workspace or workspace_changed([row.path for row in self.rows], [row.path for row in rows])

    # -- computing ------------------------------------------------------------------------------------------
    def request(self) -> SaliencyRequest:
        inputs = self.inputs
        target = pair_target(inputs.pair_image.strip()) if inputs.target == "image" else inputs.target
        return SaliencyRequest(inputs.images, self.checked, inputs.method, target, inputs.checkpoint)

    def export_payload(self) -> dict:
        return dict(self.results or {})

    def _started(self, request) -> None:
        self.progress = "loading models…"
        self.shown = Placeholder(f"Computing {request.method} for {len(request.image_paths)} image(s) × "
                                 f"{len(request.run_dirs)} run(s)…")

    def _show_outcome(self, outcome) -> dict:
        results_by_run, failed_runs = outcome
        if not results_by_run:
            self.progress, self.shown = "", Placeholder(NOTHING_EXPLAINED)
            return failed_runs
        grid = SaliencyGrid.from_results(results_by_run)
        self.results, self.shown = results_by_run, grid
        method = next((r.method for results in results_by_run.values() for r in results), "")
        self.progress = f"{method}: {len(grid.image_paths)} image(s) × {len(grid.run_names)} run(s)"
        return failed_runs

    def _show_failure(self, message: str) -> None:
        self.shown = Placeholder(FAILED_TEXT)
