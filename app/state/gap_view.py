"""What one modality-gap plot shows, prepared off the GUI thread (no Qt here).

A :class:`GapView` holds a run's projected pairs as arrays ready to draw (the grey pair segments
already interleaved), the text points drawn once per distinct position, and what a hovered point
says about itself: its image (as an HTML ``<img>``), identity, caption (SynthPed) and occlusion, and
what a click on it opens: a query of the run's eval (``queries``) in Retrieval, any other image in Dataset.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from app.state.names import distinguishing_names

IMAGE, TEXT = "image", "text"
THUMB_HEIGHT = 128


@dataclass(frozen=True)
class HoveredPoint:
    """A point of a plot: which run, which side (``image`` / ``text``) and which pair."""

    run: str
    kind: str
    index: int


@dataclass
class GapView:
    run: str                      # the run directory
    title: str
    text_kind: str
    image_xy: np.ndarray          # (n, 2)
    text_xy: np.ndarray           # (n, 2), text_xy[i] pairs with image_xy[i]
    pids: np.ndarray              # (n,)
    paths: list[str]              # image i's file
    annotations: dict = field(default_factory=dict)   # path -> {"caption", "occlusion"} (api.image_annotations)
    queries: dict = field(default_factory=dict)       # path -> the eval folder of the run where it is a query
    facts: dict = field(default_factory=dict)         # path -> {"camera": int, "split": train|query|gallery}
    image_emb: np.ndarray | None = None   # (n, E) the ORIGINAL embeddings, rows L2-normalised (nearest neighbours)
    text_emb: np.ndarray | None = None    # (n, E)

    @classmethod
    def from_result(cls, result, title: str, annotations: dict | None = None,
                    queries: dict | None = None, facts: dict | None = None) -> "GapView":
        """From a projected ``api.GapResult`` (anything with its attributes); ``queries``: which of its images
        are queries of the run's eval, and of which eval folder; ``facts``: each image's camera and split."""
        paths = [str(p) for p in (getattr(result, "paths", None) or [])]
        own = getattr(result, "dataset_pids", None)   # the dataset's person ids (training labels are 0..N-1)
        return cls(str(result.run), title, str(result.text_kind), np.asarray(result.image_xy, dtype=np.float64),
                   np.asarray(result.text_xy, dtype=np.float64), np.asarray(result.pids if own is None else own), paths,
                   {p: annotations[p] for p in paths if annotations and p in annotations},
                   {p: queries[p] for p in paths if queries and p in queries},
                   {p: facts[p] for p in paths if facts and p in facts},
                   _unit_rows(getattr(result, "image_emb", None)), _unit_rows(getattr(result, "text_emb", None)))

    # -- drawing --------------------------------------------------------------------------------------
    def pair_segments(self) -> tuple[np.ndarray, np.ndarray]:
        """x and y arrays [img0, txt0, img1, txt1, …] for a line item with ``connect="pairs"``."""
        points = np.empty((2 * len(self.image_xy), 2), dtype=np.float64)
        points[0::2] = self.image_xy
        points[1::2] = self.text_xy
        return points[:, 0], points[:, 1]

    # -- hovering ---------------------------------------------------------------------------------------
    def image_path(self, index: int) -> str:
        return self.paths[index] if 0 <= index < len(self.paths) else ""

    def query_eval(self, path: str) -> str | None:
        """The eval folder in which the image at ``path`` is a query (None: it is no query of this run)."""
        return self.queries.get(str(path))

    def is_occluded(self, index: int) -> bool:
        return (self.annotations.get(self.image_path(index)) or {}).get("occlusion") is not None

    def describe(self, kind: str, index: int, thumb_height: int = THUMB_HEIGHT) -> str:
        """Rich text for a hovered point: the image (or the image a text is paired with) and its identity."""
        pid = int(self.pids[index])
        path = self.image_path(index)
        note = (self.annotations.get(path) or {})
        if kind == IMAGE:
            head = f"<b>image</b> · identity <b>{pid}</b>"
        elif self.text_kind == "prototype":
            shared = int(np.sum(self.pids == pid))
            head = f"<b>text</b> (prototype) · identity <b>{pid}</b> · paired with {shared} image(s)"
        else:
            head = f"<b>text</b> ({html.escape(self.text_kind)}, written for this image) · identity <b>{pid}</b>"
        lines = [head]
        if note.get("occlusion") is not None:
            lines.append(f"<span style='color:#B35C00'>occluded: {100 * float(note['occlusion']):.0f} % of the body</span>")
        if note.get("caption"):
            lines.append(f"<i>“{html.escape(note['caption'])}”</i>")
        if path:
            lines.append(f"<span style='color:#777'>{html.escape(Path(path).name)}</span>")
            if kind == IMAGE:
                action = "open this query in Retrieval" if path in self.queries else "show this image in Dataset"
                lines.append(f"<span style='color:#777'>click: select · double-click: {action}</span>")
        image = (f"<img src='{Path(path).as_uri()}' height='{thumb_height}'>" if path and Path(path).is_absolute()
                 else "")
        return (f"<table><tr><td>{image}</td><td width='300' style='padding-left:6px; vertical-align:top'>"
                f"{'<br>'.join(lines)}</td></tr></table>")


def _unit_rows(array) -> np.ndarray | None:
    if array is None:
        return None
    rows = np.asarray(array, dtype=np.float32)
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)


def eval_folder_for(image_path, folders) -> str | None:
    """The eval folder (``<train set>@<data folder>``) whose test data holds ``image_path`` (its split
    folder's parent), or None when no folder name says so."""
    data_folder = Path(image_path).parent.parent.name
    return next((name for name in folders if name.split("@")[-1] == data_folder), None)


def plot_titles(views) -> list[str]:
    """Each view's title with its run named by the part that tells it from the other runs plotted
    (``…gate_off… · SCING``); a title that does not start with the run's folder name stays as it is."""
    names = [Path(view.run).name for view in views]
    return [shown + view.title[len(name):] if view.title.startswith(name) else view.title
            for view, name, shown in zip(views, names, distinguishing_names(names))]
