"""Nearest neighbours of a selected Modality-gap point in the ORIGINAL embedding (numpy, no Qt).

A 2-D projection bends distances (UMAP and t-SNE keep only local neighbourhoods, PCA keeps two
directions of hundreds), so the list under the plot ranks by the cosine distance of the embeddings
themselves: every image point and every distinct text point of the same run (a prototype shared by an
identity's images is one candidate, at its first pair), the selected point left out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.state.gap_view import IMAGE, TEXT, GapView

NEIGHBOURS = 10


@dataclass(frozen=True)
class Neighbour:
    kind: str          # image | text
    index: int         # the pair's index in the view
    distance: float    # cosine distance (1 - cosine similarity) in the embedding
    identity: int
    path: str          # the image (a text point: the image it is paired with)


def candidates(view: GapView) -> tuple[np.ndarray, list[tuple[str, int]]]:
    """``(rows, points)``: the unit embedding rows of the run's image points and distinct text points, and
    which point each row is (``(kind, index)``)."""
    images, texts = view.image_emb, view.text_emb
    if images is None or texts is None:
        return np.zeros((0, 0), dtype=np.float32), []
    _, first = np.unique(texts, axis=0, return_index=True)
    first = np.sort(first)
    rows = np.vstack([images, texts[first]])
    points = [(IMAGE, i) for i in range(len(images))] + [(TEXT, int(i)) for i in first]
    return rows, points


def embedding_of(view: GapView, kind: str, index: int) -> np.ndarray | None:
    array = view.image_emb if kind == IMAGE else view.text_emb
    return None if array is None or not 0 <= index < len(array) else array[index]


def nearest_neighbours(view: GapView, kind: str, index: int, k: int = NEIGHBOURS) -> list[Neighbour]:
    """The ``k`` points of ``view`` nearest to point ``(kind, index)`` by cosine distance in the embedding
    (ties: images before texts, then by index); [] when the view has no embeddings."""
    anchor = embedding_of(view, kind, index)
    rows, points = candidates(view)
    if anchor is None or not points:
        return []
    distances = 1.0 - rows.astype(np.float64) @ anchor.astype(np.float64)
    same = _same_point(view, kind, index, points)
    order = [i for i in np.lexsort((np.arange(len(points)), distances)) if not same[i]]
    return [Neighbour(points[i][0], points[i][1], float(distances[i]), int(view.pids[points[i][1]]),
                      view.image_path(points[i][1])) for i in order[:k]]


def projected_neighbours(view: GapView, kind: str, index: int, k: int = NEIGHBOURS) -> list[tuple[str, int]]:
    """The same ranking in the 2-D projection (Euclidean): what the plot suggests, for comparison."""
    _, points = candidates(view)
    if not points:
        return []
    xy = np.array([(view.image_xy if kind_ == IMAGE else view.text_xy)[i] for kind_, i in points])
    anchor = (view.image_xy if kind == IMAGE else view.text_xy)[index]
    distances = np.linalg.norm(xy - anchor, axis=1)
    same = _same_point(view, kind, index, points)
    order = [i for i in np.lexsort((np.arange(len(points)), distances)) if not same[i]]
    return [points[i] for i in order[:k]]


def _same_point(view: GapView, kind: str, index: int, points) -> np.ndarray:
    """Which candidates are the selected point itself (a text point: any pair sharing its text row)."""
    if kind == IMAGE:
        return np.array([p == (IMAGE, index) for p in points])
    text = view.text_emb[index]
    return np.array([p[0] == TEXT and np.array_equal(view.text_emb[p[1]], text) for p in points])
