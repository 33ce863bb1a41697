"""What the retrieval browser knows of its queries beyond the eval's arrays, and the criteria that use it.

- :class:`QueryAttributes`: the images' captions and occluded share (SynthPed's ``captions.jsonl``,
  through ``api.image_annotations``), aligned with the eval's queries; real datasets have none;
- :class:`QueryExtras`: those attributes, the queries' tags (:mod:`app.state.query_tags`) and a
  selection made elsewhere (the Modality-gap panel's), held by the eval's ``RetrievalState``;
- :func:`query_mask`: which queries pass the filter's attribute, tag, camera-list and identity-list
  criteria, and the selection — numpy over the arrays, so a Market-sized eval filters in milliseconds;
- :func:`describe_criteria`: the words for what is active, for the query count under the list.

A criterion the eval cannot apply (caption words on a dataset without captions) is ignored, as the
ΔAP criterion is without a compared run; the filter bar shows it disabled.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from app.state.query_filter import ANY_TAG, QueryFilter


@dataclass(frozen=True, eq=False)
class QueryAttributes:
    """Per query (by index): its caption, lower-cased ('' without one), and its occluded share (NaN
    when the dataset says nothing of the image; 0 for a described image without occlusion)."""

    captions: np.ndarray            # str array
    occlusion: np.ndarray           # float64
    has_captions: bool
    has_occlusion: bool

    @classmethod
    def from_annotations(cls, query_paths, annotations: dict) -> "QueryAttributes":
        """From ``{path: {"caption": str, "occlusion": fraction | None}}`` (``api.image_annotations``)."""
        notes = [annotations.get(str(path)) for path in query_paths]
        captions = np.array([str(n.get("caption") or "").lower() if n else "" for n in notes], dtype=str)
        occlusion = np.array([np.nan if not n else float(n.get("occlusion") or 0.0) for n in notes], dtype=np.float64)
        has_occlusion = any(n and n.get("occlusion") is not None for n in notes)
        return cls(captions, occlusion, bool(np.char.str_len(captions).any()) if len(captions) else False,
                   bool(has_occlusion))

    def caption(self, query_index: int) -> str:
        return str(self.captions[query_index]) if len(self.captions) else ""

    def availability(self) -> str:
        """What the attribute filters can use: '' when both, else the line the filter bar shows."""
        if self.has_captions and self.has_occlusion:
            return ""
        if self.has_captions:
            return "no occlusion for this dataset"
        return "no captions/occlusion for this dataset"


@dataclass(frozen=True)
class Restriction:
    """Queries chosen elsewhere (by index), and what to call the selection ('Modality gap')."""

    indices: frozenset
    label: str

    def text(self) -> str:
        return f"selection from {self.label}: {len(self.indices)} image{'s' * (len(self.indices) != 1)}"


@dataclass(frozen=True)
class QueryExtras:
    """What the query list's criteria need beyond the eval's arrays. ``tags``: query index -> its tags."""

    attributes: QueryAttributes | None = None
    tags: dict = field(default_factory=dict)
    restriction: Restriction | None = None

    def tags_of(self, query_index: int) -> tuple[str, ...]:
        return self.tags.get(query_index, ())


def query_mask(pids, camids, query_filter: QueryFilter, extras: QueryExtras) -> np.ndarray | None:
    """A bool per query: passes the attribute, tag, camera-list and identity-list criteria and the
    selection (None: nothing of these is set, every query passes)."""
    f, n = query_filter, len(pids)
    mask = np.ones(n, dtype=bool)
    used = False
    if f.cameras:
        mask &= np.isin(np.asarray(camids) + 1, f.cameras)
        used = True
    if f.identities:
        mask &= np.isin(np.asarray(pids), f.identities)
        used = True
    attributes = extras.attributes
    if attributes is not None and attributes.has_occlusion and f.narrows_occlusion:
        with np.errstate(invalid="ignore"):
            mask &= (attributes.occlusion >= f.occluded_min - 1e-9) & (attributes.occlusion <= f.occluded_max + 1e-9)
        used = True
    if attributes is not None and attributes.has_captions and f.words:
        for word in f.words:
            mask &= np.char.find(attributes.captions, word) >= 0
        used = True
    if f.tag:
        tagged = [i for i, tags in extras.tags.items() if tags and (f.tag == ANY_TAG or f.tag in tags)]
        keep = np.zeros(n, dtype=bool)
        keep[np.asarray(tagged, dtype=np.int64)] = True
        mask &= keep
        used = True
    if extras.restriction is not None:
        keep = np.zeros(n, dtype=bool)
        keep[np.fromiter(extras.restriction.indices, dtype=np.int64, count=len(extras.restriction.indices))] = True
        mask &= keep
        used = True
    return mask if used else None


def describe_criteria(query_filter: QueryFilter, extras: QueryExtras) -> str:
    """'occluded 30–100 %, caption “bag”, cams c1, c3, tag “hard”' — the criteria of this module that are
    active (those the eval cannot apply left out)."""
    f, parts = query_filter, []
    attributes = extras.attributes
    if attributes is not None and attributes.has_occlusion and f.narrows_occlusion:
        low, high = round(100 * f.occluded_min), round(100 * f.occluded_max)
        parts.append(f"occluded ≥ {low} %" if high == 100 else f"occluded ≤ {high} %" if low == 0 else
                     f"occluded {low}–{high} %")
    if attributes is not None and attributes.has_captions and f.words:
        parts.append("caption " + " ".join(f"“{w}”" for w in f.words))
    if f.cameras:
        parts.append("cams " + ", ".join(f"c{c}" for c in f.cameras))
    if f.identities:
        parts.append("ids " + ", ".join(map(str, f.identities)))
    if f.tag:
        parts.append("tagged" if f.tag == ANY_TAG else f"tag “{f.tag}”")
    if extras.restriction is not None:
        parts.append(extras.restriction.text())
    return ", ".join(parts)


def parse_numbers(text: str) -> tuple[int, ...]:
    """'3, 7 12' -> (3, 7, 12); anything that is not a number is left out."""
    return tuple(int(t) for t in text.replace(",", " ").split() if t.isdigit())
