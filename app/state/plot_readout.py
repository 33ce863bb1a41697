"""The value readout under the cursor of the Training plots (TensorBoard's hover tooltip), as plain data.

For a plot and the x the mouse points at, :func:`readout` gives one entry per drawn series — every
overlaid run's smoothed loss, mAP and R1 — with the value at the point nearest to that x (the raw value
beside a smoothed one). :func:`nearest_index` is the lookup (bisection over the sorted x of a series).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass


@dataclass(frozen=True)
class ReadoutEntry:
    run: str            # the run's whole name
    name: str           # as its legend shows it ("" for a line without a legend entry)
    series: str         # "total (smoothed 0.60)", "mAP synthped", ...
    colour: int         # palette index
    x: float            # the point's x (the nearest to the cursor)
    y: float
    raw: float | None = None   # the raw value under a smoothed one

    def text(self) -> str:
        value = f"{self.y:.4g}" + (f" (raw {self.raw:.4g})" if self.raw is not None else "")
        return f"{self.name or self.run} · {self.series}: {value} @ {self.x:.4g}"


def nearest_index(xs, x: float) -> int | None:
    """The index of the value of the ascending ``xs`` nearest to ``x`` (the earlier one on a tie); None
    when ``xs`` is empty or ``x`` is not a number."""
    if not len(xs) or x is None or not math.isfinite(x):
        return None
    at = bisect.bisect_left(xs, x)
    if at == 0:
        return 0
    if at == len(xs):
        return len(xs) - 1
    return at - 1 if x - xs[at - 1] <= xs[at] - x else at


def readout(lines, plot: str, x: float) -> list[ReadoutEntry]:
    """One entry per series drawn in ``plot`` (``app.state.training_overlay.PlotLine``), nearest to ``x``;
    a faint raw line is folded into its smoothed line's entry."""
    raws = {line.key[:-1]: line for line in lines if line.plot == plot and line.faint}
    entries = []
    for line in lines:
        if line.plot != plot or line.faint:
            continue
        index = nearest_index(line.x, x)
        if index is None:
            continue
        raw_line = raws.get(line.key)
        raw = raw_line.y[index] if raw_line is not None and len(raw_line.y) == len(line.y) else None
        name = line.label or _legend_of(lines, line)
        entries.append(ReadoutEntry(line.run, name, line.series, line.colour, line.x[index], line.y[index], raw))
    return entries


def _legend_of(lines, line) -> str:
    """The legend name of the run a line without a legend entry belongs to (R1 beside its run's mAP)."""
    return next((other.label for other in lines if other.run == line.run and other.plot == line.plot
                 and other.colour == line.colour and other.label), "")
