"""How the Modality-gap points are coloured ("Colour by"), as RGBA arrays and a legend (numpy, no Qt).

- ``modality``: images red, texts blue (the paper's Fig. 1);
- ``identity``: the dataset's person ids, a categorical palette that cycles past 20 ids;
- ``camera``: the image's camera id (recorded by the dataset);
- ``occlusion``: the share of the body occluded, 0..1 (SynthPed's annotations; not occluded = 0);
- ``split``: train, query or gallery, as the dataset records the image.

A text point takes the colour of the image it is paired with (its symbol, a triangle, tells it apart).
Points whose value is unknown are grey. Recolouring never recomputes anything: the arrays are per view.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.state.gap_view import GapView

COLOUR_BY = ("modality", "identity", "camera", "occlusion", "split")
COLOUR_LABELS = {"modality": "modality (image / text)", "identity": "identity", "camera": "camera",
                 "occlusion": "occlusion (share of the body)", "split": "split (train / query / gallery)"}
IMAGE_RGBA, TEXT_RGBA, UNKNOWN_RGBA = (214, 39, 40, 255), (31, 119, 180, 255), (170, 170, 170, 255)
# 20 distinguishable colours (Tableau 20 order: strong then light)
CATEGORICAL = ("#1F77B4", "#FF7F0E", "#2CA02C", "#D62728", "#9467BD", "#8C564B", "#E377C2", "#7F7F7F", "#BCBD22",
               "#17BECF", "#AEC7E8", "#FFBB78", "#98DF8A", "#FF9896", "#C5B0D5", "#C49C94", "#F7B6D2", "#C7C7C7",
               "#DBDB8D", "#9EDAE5")
SPLIT_COLOURS = {"train": "#2CA02C", "query": "#D62728", "gallery": "#1F77B4"}
# viridis at 0, .25, .5, .75, 1
RAMP = np.array([(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)], dtype=np.float64)
LEGEND_MAX = 12


@dataclass(frozen=True, eq=False)
class Colouring:
    image_rgba: np.ndarray            # (n, 4) uint8
    text_rgba: np.ndarray             # (n, 4) uint8
    legend: tuple = ()                # ((label, "#RRGGBB"), …) for categories
    ramp: tuple | None = None         # (low label, high label) for a continuous colour bar


def rgba(hex_colour: str) -> tuple[int, int, int, int]:
    text = hex_colour.lstrip("#")
    return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16), 255


def hex_of(colour) -> str:
    return "#{:02X}{:02X}{:02X}".format(*(int(c) for c in colour[:3]))


def occlusion_values(view: GapView) -> np.ndarray:
    """Each image's occluded share (0 when annotated as not occluded; NaN when not annotated)."""
    values = np.full(len(view.paths), np.nan)
    for i, path in enumerate(view.paths):
        note = view.annotations.get(path)
        if note is not None and "occlusion" in note:
            values[i] = float(note["occlusion"] or 0.0)
    return values


def camera_values(view: GapView) -> np.ndarray:
    return np.array([int((view.facts.get(p) or {}).get("camera", -1)) for p in view.paths], dtype=np.int64)


def split_values(view: GapView) -> list[str]:
    return [str((view.facts.get(p) or {}).get("split", "")) for p in view.paths]


def unavailable(views, by: str) -> str:
    """Why the points of ``views`` cannot be coloured by ``by`` ('' when they can)."""
    if by == "occlusion" and not any(np.isfinite(occlusion_values(v)).any() for v in views):
        return "no occlusion annotations: only SynthPed datasets record how much of a person is occluded"
    if by == "camera" and not any((camera_values(v) >= 0).any() for v in views):
        return "the cameras of these images are not known (the run's dataset could not be read)"
    if by == "split" and not any(any(split_values(v)) for v in views):
        return "the splits of these images are not known (the run's dataset could not be read)"
    return ""


def ramp_rgba(values: np.ndarray) -> np.ndarray:
    """Viridis colours of ``values`` in 0..1 (NaN: grey)."""
    out = np.tile(np.array(UNKNOWN_RGBA, dtype=np.uint8), (len(values), 1))
    known = np.isfinite(values)
    t = np.clip(values[known], 0.0, 1.0) * (len(RAMP) - 1)
    low = np.floor(t).astype(int).clip(0, len(RAMP) - 2)
    frac = (t - low)[:, None]
    out[known, :3] = np.round(RAMP[low] * (1 - frac) + RAMP[low + 1] * frac).astype(np.uint8)
    return out


def _categorical(labels: list, order: list) -> tuple[np.ndarray, tuple]:
    colours = {label: rgba(CATEGORICAL[i % len(CATEGORICAL)]) for i, label in enumerate(order)}
    out = np.array([colours.get(label, UNKNOWN_RGBA) for label in labels], dtype=np.uint8).reshape(-1, 4)
    return out, tuple((str(label), hex_of(colours[label])) for label in order)


def colouring_of(view: GapView, by: str, categories: list | None = None) -> Colouring:
    """The colours of ``view``'s points by ``by``; ``categories``: the category order shared by every plot
    (so one identity has one colour in all of them; default: this view's own values, sorted)."""
    n = len(view.paths) or len(view.image_xy)
    if by == "modality":
        return Colouring(np.tile(np.array(IMAGE_RGBA, np.uint8), (n, 1)), np.tile(np.array(TEXT_RGBA, np.uint8), (n, 1)),
                         (("image", hex_of(IMAGE_RGBA)), ("text", hex_of(TEXT_RGBA))))
    if by == "occlusion":
        colours = ramp_rgba(occlusion_values(view))
        return Colouring(colours, colours.copy(), (), ("0 %", "100 % occluded"))
    if by == "split":
        labels = split_values(view)
        colours = np.array([rgba(SPLIT_COLOURS[s]) if s in SPLIT_COLOURS else UNKNOWN_RGBA for s in labels],
                           dtype=np.uint8).reshape(-1, 4)
        legend = tuple((s, SPLIT_COLOURS[s]) for s in SPLIT_COLOURS if s in labels)
        return Colouring(colours, colours.copy(), legend)
    labels = [int(p) for p in view.pids] if by == "identity" else [int(c) for c in camera_values(view)]
    order = categories if categories is not None else sorted(set(labels) - {-1})
    colours, legend = _categorical(labels, order)
    prefix = "id " if by == "identity" else "cam "
    return Colouring(colours, colours.copy(), tuple((prefix + label, colour) for label, colour in legend))


def colourings(views, by: str) -> list[Colouring]:
    """One :class:`Colouring` per view, identities and cameras in one shared order."""
    categories = None
    if by in ("identity", "camera"):
        values = set()
        for view in views:
            values |= set(int(p) for p in view.pids) if by == "identity" else set(int(c) for c in camera_values(view))
        categories = sorted(values - {-1})
    return [colouring_of(view, by, categories) for view in views]


def legend_entries(items: list[Colouring]) -> tuple[list[tuple[str, str]], int]:
    """The legend's first :data:`LEGEND_MAX` categories over all plots and how many more there are."""
    seen: dict[str, str] = {}
    for colouring in items:
        for label, colour in colouring.legend:
            seen.setdefault(label, colour)
    entries = list(seen.items())
    return entries[:LEGEND_MAX], max(0, len(entries) - LEGEND_MAX)
