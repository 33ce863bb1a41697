"""Which queries the retrieval browser lists, and in which order: a frozen filter and the pure
functions that apply it and the sort.

A query is kept when it passes every criterion that is set: the search text (a part of its file
name, or its identity number), the identity, the camera (the dataset's own number, 1-based as in
``0002_c3s1_…`` names), the AP range, rank-1 failures only, and — when another run is compared —
a ΔAP threshold in a direction (lost / gained / changed by at least so many points). Queries the
protocol skipped (no true match) always come last, whatever the sort.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

SORT_KEYS = ("ap_ascending", "ap_descending", "first_hit_descending", "query_order", "delta_ascending",
             "delta_descending")
ANY_TAG = "*"   # the tag filter's "any tag"
DELTA_DIRECTIONS = {   # direction -> what the combo box says
    "any": "any ΔAP",
    "worse": "lost ≥",
    "better": "gained ≥",
    "changed": "changed ≥",
}


@dataclass(frozen=True)
class QueryFilter:
    """Criteria of the query list; the defaults keep every query. AP values are fractions (0..1)."""

    text: str = ""                  # case-insensitive part of the file name, or an identity number
    identity: int | None = None     # the query's pid
    camera: int | None = None       # the dataset's camera number (camid + 1)
    ap_min: float = 0.0
    ap_max: float = 1.0
    only_failures: bool = False     # first true match below rank 1
    delta_direction: str = "any"    # see DELTA_DIRECTIONS; needs a compared run
    delta_threshold: float = 0.0    # in AP fractions (0.1 = 10 points)
    # image attributes and tags (applied by app.state.query_attributes.query_mask, with numpy)
    occluded_min: float = 0.0       # occluded share of the body (SynthPed-Occluded), fractions
    occluded_max: float = 1.0
    caption_words: str = ""         # every word must appear in the caption (case-insensitive)
    cameras: tuple = ()             # any of these camera numbers (the dataset's, 1-based)
    identities: tuple = ()          # any of these person ids (the dataset's own)
    tag: str = ""                   # "": any query; ANY_TAG: tagged ones; else queries with this tag

    def __post_init__(self) -> None:
        if self.delta_direction not in DELTA_DIRECTIONS:
            raise ValueError(f"unknown ΔAP direction '{self.delta_direction}'; valid: {', '.join(DELTA_DIRECTIONS)}")
        object.__setattr__(self, "cameras", tuple(sorted({int(c) for c in self.cameras})))
        object.__setattr__(self, "identities", tuple(sorted({int(i) for i in self.identities})))

    @property
    def narrows_occlusion(self) -> bool:
        return self.occluded_min > 0.0 or self.occluded_max < 1.0

    @property
    def words(self) -> tuple[str, ...]:
        """The caption words asked for, lower-cased."""
        return tuple(self.caption_words.lower().split())

    @property
    def uses_attributes(self) -> bool:
        """A criterion on the images' captions or occlusion (only SynthPed describes them)."""
        return self.narrows_occlusion or bool(self.words)

    @property
    def narrows_ap(self) -> bool:
        """The AP range excludes something (queries skipped by the protocol, with no AP, drop out)."""
        return self.ap_min > 0.0 or self.ap_max < 1.0

    @property
    def uses_delta(self) -> bool:
        return self.delta_direction != "any"

    def is_active(self, with_reference: bool = True) -> bool:
        """Anything set that can hide a query (the ΔAP criterion counts only with a compared run)."""
        return bool(self.text.strip() or self.identity is not None or self.camera is not None or self.narrows_ap
                    or self.only_failures or (with_reference and self.uses_delta) or self.uses_attributes
                or bool(self.cameras or self.identities or self.tag))

    def cleared(self) -> "QueryFilter":
        """Every query shown again; the ΔAP threshold stays for the next time a direction is chosen (as
        the filter bar's Reset leaves it)."""
        return QueryFilter(delta_threshold=self.delta_threshold)

    def with_failures(self, enabled: bool) -> "QueryFilter":
        return replace(self, only_failures=bool(enabled))


def filter_queries(rows, query_filter: QueryFilter, delta=None, allowed=None) -> list:
    """The rows (``QueryRow``: name, pid, camid, ap, first_hit, index) that pass ``query_filter``, in order.

    ``allowed`` (a bool per query index, or None) is what the attribute, tag, camera-list, identity-list
    and selection criteria left (:func:`app.state.query_attributes.query_mask`).

    ``delta(query_index) -> float`` is this run's AP minus the compared run's (NaN where not compared);
    without it (no run compared) the ΔAP criterion is ignored. With it, queries without a ΔAP drop out
    of any ΔAP criterion.
    """
    f = query_filter
    text = f.text.strip().lower()
    text_identity = int(text) if text.isdigit() else None
    use_delta = delta is not None and f.uses_delta
    allowed = allowed.tolist() if allowed is not None else None
    kept = []
    for row in rows:
        if allowed is not None and not allowed[row.index]:
            continue
        if text and text not in row.name.lower() and row.pid != text_identity:
            continue
        if f.identity is not None and row.pid != f.identity:
            continue
        if f.camera is not None and row.camid + 1 != f.camera:
            continue
        if f.only_failures and not row.is_failure:
            continue
        if f.narrows_ap and (math.isnan(row.ap) or not f.ap_min - 1e-9 <= row.ap <= f.ap_max + 1e-9):
            continue
        if use_delta and not passes_delta(delta(row.index), f.delta_direction, f.delta_threshold):
            continue
        kept.append(row)
    return kept


def order_queries(rows, sort_key: str, delta) -> list:
    """The rows in the order ``sort_key`` (one of :data:`SORT_KEYS`) names; ``delta(query_index)`` as in
    :func:`filter_queries` (queries without a ΔAP come last in either ΔAP order)."""
    skipped = [r for r in rows if not r.evaluated]
    rows = [r for r in rows if r.evaluated]
    if sort_key == "ap_ascending":
        rows.sort(key=lambda r: (r.ap, -r.first_hit, r.index))
    elif sort_key == "ap_descending":
        rows.sort(key=lambda r: (-r.ap, r.first_hit, r.index))
    elif sort_key == "first_hit_descending":
        rows.sort(key=lambda r: (-r.first_hit, r.ap, r.index))
    elif sort_key.startswith("delta"):
        sign = 1.0 if sort_key == "delta_ascending" else -1.0

        def by_delta(row):
            value = delta(row.index)
            return (math.isnan(value), 0.0 if math.isnan(value) else sign * value, row.index)

        rows.sort(key=by_delta)
    return rows + skipped


def passes_delta(value: float, direction: str, threshold: float) -> bool:
    """Whether a ΔAP (fraction) passes 'lost / gained / changed by at least ``threshold``'."""
    if direction == "any":
        return True
    if math.isnan(value):
        return False
    threshold = max(float(threshold), 1e-9)   # 'lost ≥ 0' still means lost something
    if direction == "worse":
        return value <= -threshold
    if direction == "better":
        return value >= threshold
    return abs(value) >= threshold


def describe_filter(query_filter: QueryFilter, shown: int, total: int, details: str = "") -> str:
    """'37 of 3368 queries shown (filtered)' or '3368 queries'; ``details`` says which criteria are active
    ('… (filtered): occluded ≥ 30 %, caption “bag”')."""
    filtered = query_filter.is_active() or bool(details)
    if shown == total and not filtered:
        return f"{total} queries"
    text = f"{shown} of {total} queries shown" + (" (filtered)" if filtered else "")
    return text + (f": {details}" if details else "")
