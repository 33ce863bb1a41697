"""The retrieval browser's view-model: queries sorted by AP (worst first), filtered
(:mod:`app.state.query_filter`), the selected query and its top-k gallery strip with the protocol's
match kinds, and — when another run is compared — that run's state for the side-by-side strip.

Built from the arrays of an eval folder (``api.load_eval``): query/gallery pids, camids and paths,
``topk_indices`` / ``topk_distances`` / ``topk_junk`` and per-query ``ap`` / ``first_hit``
(``first_hit`` = 0-based rank of the first true match after junk removal, -1 when the query has no
true match and the protocol skips it). Camera ids are 0-based as the core stores them; the user sees
the dataset's own numbers (:func:`camera_number`, 1-based as in ``0002_c3s1_…`` file names).

:class:`RetrievalState` is evented (psygnal) and owns the browser's rules: what a change of the filters,
the sort or the compared run does to the list, and that the selection follows the list. Whoever
changes it (a click, a worker's result) only writes to it; the panel's widgets subscribe and draw
(through :class:`app.state.retrieval_browser.RetrievalBrowser`, which relays the eval shown).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from psygnal import Signal

from app.state.query_attributes import QueryExtras, query_mask
from app.state.query_filter import SORT_KEYS, QueryFilter, filter_queries, order_queries
from app.state.retrieval_texts import describe_comparison, describe_summary  # noqa: F401 (re-exported)

SAME, DIFFERENT, JUNK = "same", "different", "junk"   # match kinds of a gallery hit
SORT_TEXT = {"ap_ascending": "worst AP first", "ap_descending": "best AP first",
             "first_hit_descending": "latest first true match first", "query_order": "in query order",
             "delta_ascending": "largest AP loss vs {reference} first",
             "delta_descending": "largest AP gain vs {reference} first"}


def camera_number(camid: int) -> int:
    """The dataset's own camera number (``c3`` in a Market-style name) of a 0-based camid."""
    return int(camid) + 1


def describe_sort(key: str, reference: str | None = None) -> str:
    """'worst AP first', 'largest AP loss vs clipreid first', … for the query list's title."""
    return SORT_TEXT[key].format(reference=reference or "the compared run")


@dataclass(frozen=True)
class QueryRow:
    """One query of the eval: its AP (NaN when skipped) and first-hit rank (-1 when skipped)."""

    index: int
    path: str
    pid: int
    camid: int
    ap: float
    first_hit: int

    @property
    def evaluated(self) -> bool:
        return self.first_hit >= 0

    @property
    def is_failure(self) -> bool:
        """Rank-1 is wrong: the first true match is not the top (non-junk) result."""
        return self.first_hit > 0

    @property
    def name(self) -> str:
        return Path(self.path).name


@dataclass(frozen=True)
class GalleryHit:
    """One entry of a query's ranked list: ``rank`` its 1-based position in the stored list (0: beyond it),
    ``counted_rank`` its rank with junk left out, as the protocol and ``first_hit`` count (0: junk, or
    beyond the list). The strips' badges show ``counted_rank``."""

    rank: int
    index: int
    path: str
    pid: int
    camid: int
    distance: float
    kind: str
    counted_rank: int = 0


class RetrievalState:
    """Queries of one eval folder, ordered and filtered for browsing, and their top-k lists.

    Signals (each emitted once per change, never when nothing changed; the state is consistent before
    the first one goes out, and they go out in this order):

    - ``rows_changed()``: the listed queries or their order changed (filters, sort, compared run);
    - ``sort_changed(key)``: another sort (a ΔAP sort falls back to worst AP first without a compared run);
    - ``filter_changed(QueryFilter)``: other filters;
    - ``reference_changed(name | None)``: another run compared, or none any more;
    - ``extras_changed(QueryExtras)``: other image attributes, tags or selection from another panel;
    - ``selection_changed(index | None)``: another query selected. The selection follows the list: when
      the list no longer shows the selected query, the first one listed is selected (None: empty list).
    """

    rows_changed = Signal()
    sort_changed = Signal(str)
    filter_changed = Signal(object)
    reference_changed = Signal(object)
    extras_changed = Signal(object)
    selection_changed = Signal(object)

    def __init__(self, query_paths, query_pids, query_camids, gallery_paths, gallery_pids, gallery_camids,
                 topk_indices, topk_distances, topk_junk, ap, first_hit, metrics: dict | None = None) -> None:
        self.query_paths = [str(p) for p in query_paths]
        self.query_pids = np.asarray(query_pids, dtype=np.int64)
        self.query_camids = np.asarray(query_camids, dtype=np.int64)
        self.gallery_paths = [str(p) for p in gallery_paths]
        self.gallery_pids = np.asarray(gallery_pids, dtype=np.int64)
        self.gallery_camids = np.asarray(gallery_camids, dtype=np.int64)
        self.topk_indices = np.asarray(topk_indices, dtype=np.int64)
        self.topk_distances = np.asarray(topk_distances, dtype=np.float32)
        self.topk_junk = np.asarray(topk_junk, dtype=bool)
        self.ap = np.asarray(ap, dtype=np.float64)
        self.first_hit = np.asarray(first_hit, dtype=np.int64)
        self.metrics = dict(metrics or {})
        if not (len(self.query_paths) == len(self.ap) == len(self.first_hit) == len(self.topk_indices)):
            raise ValueError("eval arrays describe different numbers of queries")
        _check_gallery(self.gallery_paths, self.gallery_pids, self.gallery_camids, self.topk_indices)
        self.sort_key = "ap_ascending"
        self.query_filter = QueryFilter()
        self.extras = QueryExtras()   # captions / occlusion, tags, a selection made in another panel
        self.reference_name: str | None = None       # another run's eval of the same queries (comparison)
        self.reference_ap = np.full(len(self.ap), np.nan)
        self.reference: RetrievalState | None = None   # that run's whole eval, for the side-by-side strip
        self.reference_index = np.full(len(self.ap), -1, dtype=np.int64)   # query index there, -1: absent
        self._rows = [QueryRow(i, self.query_paths[i], int(self.query_pids[i]), int(self.query_camids[i]),
                               float(self.ap[i]), int(self.first_hit[i])) for i in range(len(self.query_paths))]
        self._query_by_path = {path: i for i, path in enumerate(self.query_paths)}
        self._set_visible()
        self.selected: int | None = self._visible[0].index if self._visible else None

    @classmethod
    def from_artifacts(cls, artifacts) -> "RetrievalState":
        """From an ``api.load_eval`` result (``EvalArtifacts``)."""
        q, g = artifacts.query, artifacts.gallery
        return cls(q.paths, q.pids, q.camids, g.paths, g.pids, g.camids, artifacts.topk_indices,
                   artifacts.topk_distances, artifacts.topk_junk, artifacts.ap, artifacts.first_hit, artifacts.metrics)

    # -- ordering and filtering ----------------------------------------------------------------
    def set_sort(self, key: str) -> None:
        if key not in SORT_KEYS:
            raise ValueError(f"unknown sort '{key}'; valid: {', '.join(SORT_KEYS)}")
        before = self._snapshot()
        self.sort_key = key
        self._publish(before)

    def set_only_failures(self, enabled: bool) -> None:
        self.set_filter(self.query_filter.with_failures(enabled))

    @property
    def only_failures(self) -> bool:
        return self.query_filter.only_failures

    def set_filter(self, query_filter: QueryFilter) -> None:
        if query_filter == self.query_filter:
            return
        before = self._snapshot()
        self.query_filter = query_filter
        self._publish(before)

    def set_extras(self, extras: QueryExtras) -> None:
        """Other image attributes, tags or selection (:mod:`app.state.query_attributes`)."""
        if extras != self.extras:
            before = self._snapshot()
            self.extras = extras
            self._publish(before)

    def query_index_of(self, path) -> int | None:
        """The index of the query with this image path, None when the path is not a query of this eval."""
        return self._query_by_path.get(str(path))

    # -- comparison with another run ----------------------------------------------------------
    def set_reference(self, name: str, query_paths, ap) -> int:
        """Compare with another run's eval of the same test set: its per-query AP, matched by query path.
        Returns the number of queries matched; raises ValueError when none is."""
        aligned, matched = self._align(name, query_paths, ap)
        before = self._snapshot()
        self.reference_name, self.reference_ap = name, aligned
        self.reference, self.reference_index = None, np.full(len(self.ap), -1, dtype=np.int64)
        self._publish(before)
        return matched

    def set_reference_state(self, name: str, other: "RetrievalState") -> int:
        """Compare with another run's whole eval: per-query AP (as :meth:`set_reference`) and its ranked
        lists, query by query (matched by path), for the side-by-side strip. Replaces the run compared
        before (a ΔAP sort stays)."""
        aligned, matched = self._align(name, other.query_paths, other.ap)
        index = np.array([-1 if (i := other.query_index_of(path)) is None else i for path in self.query_paths],
                         dtype=np.int64)
        before = self._snapshot()
        self.reference_name, self.reference_ap, self.reference, self.reference_index = name, aligned, other, index
        self._publish(before)
        return matched

    def _align(self, name: str, query_paths, ap) -> tuple[np.ndarray, int]:
        by_path = {str(path): float(value) for path, value in zip(query_paths, np.asarray(ap, dtype=np.float64))}
        aligned = np.array([by_path.get(path, np.nan) for path in self.query_paths], dtype=np.float64)
        matched = int(sum(path in by_path for path in self.query_paths))
        if not matched:
            raise ValueError(f"'{name}' evaluated other queries than this run: nothing to compare")
        return aligned, matched

    def clear_reference(self) -> None:
        before = self._snapshot()
        self.reference_name, self.reference_ap = None, np.full(len(self.ap), np.nan)
        self.reference, self.reference_index = None, np.full(len(self.ap), -1, dtype=np.int64)
        if self.sort_key.startswith("delta"):
            self.sort_key = "ap_ascending"
        self._publish(before)

    def delta(self, query_index: int) -> float:
        """AP of this run minus the reference run's, for one query (NaN without a reference or a match)."""
        return float(self.ap[query_index] - self.reference_ap[query_index])

    def reference_summary(self) -> dict:
        """How the two runs differ over the queries both evaluated: counts and mean AP difference."""
        deltas = self.ap - self.reference_ap
        valid = ~np.isnan(deltas)
        return {"reference": self.reference_name, "compared": int(valid.sum()),
                "better": int((deltas[valid] > 1e-9).sum()), "worse": int((deltas[valid] < -1e-9).sum()),
                "mean_delta": float(deltas[valid].mean()) if valid.any() else float("nan")}

    def visible_rows(self) -> list[QueryRow]:
        """Queries in display order; skipped queries (no true match) always sort last."""
        return list(self._visible)

    @property
    def num_visible(self) -> int:
        return len(self._visible)

    def is_listed(self, query_index: int | None) -> bool:
        """Whether the list (filters applied) shows this query."""
        return query_index in self._listed

    def _set_visible(self) -> None:
        delta = self.delta if self.reference_name else None
        allowed = query_mask(self.query_pids, self.query_camids, self.query_filter, self.extras)
        self._visible = order_queries(filter_queries(self._rows, self.query_filter, delta, allowed), self.sort_key,
                                      self.delta)
        self._order = [row.index for row in self._visible]   # the listed queries' indices, in order
        self._listed = set(self._order)

    # -- emitting once per change ----------------------------------------------------------------
    def _snapshot(self) -> tuple:
        return (self._order, self.sort_key, self.query_filter,
                (self.reference_name, self.reference, self.reference_ap), self.selected, self.extras)

    def _publish(self, before: tuple) -> None:
        """After the filters, the sort or the compared run changed: list again, let the selection follow
        the list, then emit what differs from ``before`` (a :meth:`_snapshot`)."""
        rows, sort_key, query_filter, (name, reference, reference_ap), selected, extras = before
        self._set_visible()
        if not self.is_listed(self.selected):
            self.selected = self._visible[0].index if self._visible else None
        if self._order != rows:
            self.rows_changed.emit()
        if self.sort_key != sort_key:
            self.sort_changed.emit(self.sort_key)
        if self.query_filter != query_filter:
            self.filter_changed.emit(self.query_filter)
        if (self.reference_name != name or self.reference is not reference
                or not np.array_equal(self.reference_ap, reference_ap, equal_nan=True)):
            self.reference_changed.emit(self.reference_name)
        if self.extras != extras:
            self.extras_changed.emit(self.extras)
        if self.selected != selected:
            self.selection_changed.emit(self.selected)

    # -- selection -----------------------------------------------------------------------------
    def select(self, query_index: int | None) -> QueryRow | None:
        """Select a query (by index, listed or not; None: none); ``selection_changed`` when it is another."""
        if query_index is not None and not 0 <= query_index < len(self._rows):
            raise IndexError(f"query {query_index} out of range (0..{len(self._rows) - 1})")
        if query_index != self.selected:
            self.selected = query_index
            self.selection_changed.emit(query_index)
        return self.selected_row

    def show_query(self, query_index: int) -> bool:
        """Select query ``query_index`` and make the list show it, clearing the filters when they hide it
        (as the filter bar's Reset would). False when it is out of range."""
        if not 0 <= query_index < len(self._rows):
            return False
        if self.is_listed(query_index):
            self.select(query_index)
            return True
        before = self._snapshot()
        self.selected, self.query_filter = query_index, self.query_filter.cleared()
        self.extras = QueryExtras(self.extras.attributes, self.extras.tags)   # and the other panel's selection
        self._publish(before)
        return self.selected == query_index

    @property
    def selected_row(self) -> QueryRow | None:
        return None if self.selected is None else self._rows[self.selected]

    def row(self, query_index: int) -> QueryRow:
        return self._rows[query_index]

    def hits(self, query_index: int, k: int = 10) -> list[GalleryHit]:
        """The query's ``k`` nearest gallery images with their match kind (junk = ignored by the protocol)."""
        out = []
        query_pid = self.query_pids[query_index]
        counted = self.counted_ranks(query_index)
        for rank, (gallery, distance, junk) in enumerate(zip(self.topk_indices[query_index][:k],
                                                             self.topk_distances[query_index][:k],
                                                             self.topk_junk[query_index][:k]), start=1):
            gallery = int(gallery)
            pid = int(self.gallery_pids[gallery])
            kind = JUNK if junk else SAME if pid == query_pid else DIFFERENT
            out.append(GalleryHit(rank, gallery, self.gallery_paths[gallery], pid, int(self.gallery_camids[gallery]),
                                  float(distance), kind, 0 if junk else counted[gallery]))
        return out

    def counted_ranks(self, query_index: int) -> dict[int, int]:
        """Gallery index -> rank in the query's stored list with junk left out (as ``first_hit`` counts)."""
        kept = [int(g) for g, junk in zip(self.topk_indices[query_index], self.topk_junk[query_index]) if not junk]
        return {gallery: rank for rank, gallery in enumerate(kept, start=1)}

    def true_matches(self, query_index: int, limit: int = 10) -> list[GalleryHit]:
        """The gallery images the protocol counts as correct for the query (same pid, other camera),
        nearest first; ``rank`` is their position in the stored top-k list, 0 when beyond it."""
        query_pid, query_cam = self.query_pids[query_index], self.query_camids[query_index]
        matches = np.flatnonzero((self.gallery_pids == query_pid) & (self.gallery_camids != query_cam))
        positions = {int(g): r for r, g in enumerate(self.topk_indices[query_index], start=1)}
        counted = self.counted_ranks(query_index)
        hits = [GalleryHit(positions.get(int(g), 0), int(g), self.gallery_paths[g], int(self.gallery_pids[g]),
                           int(self.gallery_camids[g]),
                           float(self.topk_distances[query_index][positions[int(g)] - 1]) if int(g) in positions
                           else float("nan"), SAME, counted.get(int(g), 0)) for g in matches]
        hits.sort(key=lambda h: (h.rank == 0, h.rank, h.index))
        return hits[:limit]

    @property
    def cmc(self) -> list[float]:
        """The CMC curve from metrics.json (fractions, rank 1 first); empty when not stored."""
        return [float(v) for v in self.metrics.get("cmc", [])]

    # -- summary -------------------------------------------------------------------------------
    @property
    def num_queries(self) -> int:
        return len(self._rows)

    @property
    def topk(self) -> int:
        return int(self.topk_indices.shape[1]) if self.topk_indices.ndim == 2 else 0

    def summary(self) -> dict:
        """mAP / R1 / R5 / R10 from metrics.json (fractions) and counts computed from the arrays."""
        evaluated = self.first_hit >= 0
        out = {name: self.metrics.get(name) for name in ("mAP", "R1", "R5", "R10")}
        out.update(num_query=self.num_queries, num_gallery=len(self.gallery_paths),
                   num_valid=int(evaluated.sum()), num_failures=int((self.first_hit > 0).sum()),
                   num_skipped=int((~evaluated).sum()))
        if out["mAP"] is None and evaluated.any():   # metrics.json without mAP: recompute from per-query AP
            out["mAP"] = float(np.nanmean(self.ap[evaluated]))
        return out


def _check_gallery(paths, pids, camids, topk_indices) -> None:
    """The top-k lists point into the gallery (an eval folder rewritten halfway would not)."""
    if not len(paths) == len(pids) == len(camids):
        raise ValueError(f"gallery.json lists {len(paths)} paths, {len(pids)} pids and {len(camids)} camids")
    if topk_indices.size and (topk_indices.min() < 0 or topk_indices.max() >= len(paths)):
        raise ValueError(f"topk_indices.npy points outside the {len(paths)} gallery images; run `scing eval` again")


def distance_formatter(distances):
    """A formatter for a strip's distances: 3 decimals, or 3 significant digits when they are all
    below 0.01 (near-collinear features would otherwise all read 0.000)."""
    values = [abs(float(d)) for d in distances if not math.isnan(float(d))]
    if values and max(values) < 0.01:
        return lambda d: "—" if math.isnan(d) else f"{d:.3g}"
    return lambda d: "—" if math.isnan(d) else f"{d:.3f}"
