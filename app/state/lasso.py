"""Lasso selection of Modality-gap points: which points lie inside a free-form polygon (numpy, no Qt).

The even-odd rule: a point is inside when a ray from it crosses the polygon's edges an odd number of
times (the polygon closes itself; it may cross itself). Points exactly on an edge may fall either way.
"""

from __future__ import annotations

import numpy as np


def inside_polygon(points, polygon) -> np.ndarray:
    """A boolean mask: which of ``points`` (n, 2) lie inside ``polygon`` (m, 2), m >= 3 (else none)."""
    xy = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    poly = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
    inside = np.zeros(len(xy), dtype=bool)
    if len(poly) < 3 or not len(xy):
        return inside
    x, y = xy[:, 0][:, None], xy[:, 1][:, None]
    x1, y1 = poly[:, 0][None, :], poly[:, 1][None, :]
    x2, y2 = np.roll(poly[:, 0], -1)[None, :], np.roll(poly[:, 1], -1)[None, :]
    straddles = (y1 > y) != (y2 > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        crossing_x = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
    crossings = straddles & (x < crossing_x)
    return (np.count_nonzero(crossings, axis=1) % 2) == 1
