"""What the Training panel's plots draw, as plain data: one run in detail, or several runs overlaid.

One run: every loss term of each stage in its own colour, mAP / R1 of every test set. Several runs
(TensorBoard-style): one colour per run, the chosen loss term of each stage and the chosen test set's
mAP (circles, solid) and R1 (triangles, dashed) on shared axes, the run names in the legends.

Loss series are drawn smoothed with TensorBoard's debiased EMA (:func:`ema_smooth`) over a faint copy
of the raw series; the curves (``app.state.curves``) keep the raw data. Series with few points get
symbols, so a one-epoch run's single points stay visible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from app.state.test_sets import first_test_set, ordered_test_sets

DEFAULT_SMOOTHING = 0.6      # TensorBoard's default weight
MAX_SMOOTHING = 0.99
SYMBOL_MAX_POINTS = 20       # series with at most this many points show a marker on each point
LOSS_PLOTS = {1: "loss1", 2: "loss2"}
EVAL_PLOT = "eval"
EVAL_STYLES = (("mAP", "o", False), ("R1", "t1", True))   # metric, symbol, dashed
LEGEND_MAX_CHARS = 28        # longer run names are elided in the middle in the legends


def ema_smooth(values, weight: float) -> list[float]:
    """TensorBoard's scalar smoothing: ``s_t = w·s_{t-1} + (1-w)·x_t`` from ``s_{-1} = 0``, divided by
    ``1 - w^(n)`` (n finite points so far) so the first points are not pulled towards zero. Non-finite
    values pass through unchanged and are skipped; a constant series is returned as is."""
    if not 0.0 <= weight < 1.0:
        raise ValueError(f"smoothing weight must be in [0, 1), got {weight}")
    values = [float(v) for v in values]
    if weight == 0.0 or all(v == values[0] for v in values):
        return values
    smoothed, last, count = [], 0.0, 0
    for value in values:
        if not math.isfinite(value):
            smoothed.append(value)
            continue
        last = last * weight + (1.0 - weight) * value
        count += 1
        smoothed.append(last / (1.0 - weight ** count))
    return smoothed


@dataclass(frozen=True)
class PlotLine:
    """One drawn series. ``key`` is stable across redraws (the widget reuses its item)."""

    plot: str                      # "loss1" | "loss2" | "eval"
    key: tuple
    x: tuple
    y: tuple
    colour: int                    # palette index
    label: str | None = None       # legend entry; None keeps the line out of the legend
    width: float = 1.6
    dashed: bool = False
    faint: bool = False            # the raw series under its smoothed line
    symbol: str | None = None      # a marker on each point ("o", "t1"), None for a plain line


@dataclass(frozen=True)
class PlottedRun:
    """A run to draw: its name, palette index and ``TrainingCurves``."""

    name: str
    colour: int
    curves: object


@dataclass(frozen=True)
class PlotOptions:
    smoothing: float = DEFAULT_SMOOTHING
    loss_term: str = "total"       # the loss term drawn per run when several runs are overlaid
    eval_dataset: str = ""         # the test set drawn for every overlaid run ("" = each run's first shown)


def plot_lines(runs: list[PlottedRun], options: PlotOptions = PlotOptions()) -> list[PlotLine]:
    """Every line of the three plots: the detailed view of one run, or the overlay of several."""
    if len(runs) == 1:
        return _single_run_lines(runs[0].curves, options)
    return [line for run in runs for line in _overlay_run_lines(run, options)]


def loss_terms(runs: list[PlottedRun]) -> list[str]:
    """Loss terms logged by any of the runs, 'total' first (the overlay's choices)."""
    names = {name for run in runs for stage in run.curves.stages for name in run.curves.losses(stage)}
    return sorted(names, key=lambda name: (name != "total", name))


def eval_datasets(runs: list[PlottedRun]) -> list[str]:
    """Test sets evaluated in any of the runs, in the studio's order (:mod:`app.state.test_sets`: the
    first is the one Retrieval opens too)."""
    return ordered_test_sets({dataset for run in runs for dataset in run.curves.evals})


def legend_name(name: str, limit: int = LEGEND_MAX_CHARS) -> str:
    """A run name for a legend: whole when short, else its start and end around '…' (the end tells
    seeds and variants apart)."""
    if len(name) <= limit:
        return name
    head = (limit - 1) // 2
    return name[:head] + "…" + name[-(limit - 1 - head):]


def short_dataset(label: str) -> str:
    """``synthped@synthped_occluded`` -> ``synthped_occluded`` (the evaluated folder)."""
    return label.split("@", 1)[-1]


def last_eval_epoch(runs: list[PlottedRun]) -> float:
    """The largest x of any evaluation point (0 when none): the eval plot spans 0..this."""
    return max((x for run in runs for series in run.curves.evals.values() for s in series.values() for x in s.x),
               default=0.0)


def _single_run_lines(curves, options: PlotOptions) -> list[PlotLine]:
    lines = []
    for stage, plot in LOSS_PLOTS.items():
        for index, (name, series) in enumerate(sorted(curves.losses(stage).items(), key=_loss_order)):
            width = 2.2 if name == "total" else 1.4
            lines += _loss_lines(plot, ("loss", stage, name), name, series, index, width, options.smoothing)
    several = len(curves.evals) > 1
    for index, dataset in enumerate(ordered_test_sets(curves.evals)):
        series = curves.evals[dataset]
        for offset, (metric, symbol, dashed) in enumerate(EVAL_STYLES):
            label = f"{metric} {short_dataset(dataset)}" if several else metric
            lines += _eval_line(("eval", dataset, metric), label, series[metric], 2 * index + offset, symbol, dashed)
    return lines


def _overlay_run_lines(run: PlottedRun, options: PlotOptions) -> list[PlotLine]:
    lines = []
    for stage, plot in LOSS_PLOTS.items():
        series = run.curves.losses(stage).get(options.loss_term)
        if series is not None:
            key = ("loss", run.name, stage, options.loss_term)
            lines += _loss_lines(plot, key, legend_name(run.name), series, run.colour, 2.0, options.smoothing)
    dataset = options.eval_dataset or first_test_set(run.curves.evals)
    if dataset in run.curves.evals:   # a run not evaluated on the chosen test set draws no evaluation
        for metric, symbol, dashed in EVAL_STYLES:
            label = legend_name(run.name) if metric == "mAP" else None   # one legend entry per run
            lines += _eval_line(("eval", run.name, metric), label, run.curves.evals[dataset][metric], run.colour,
                                symbol, dashed)
    return lines


def _loss_lines(plot, key, label, series, colour, width, smoothing) -> list[PlotLine]:
    if not len(series):
        return []
    symbol = "o" if len(series) <= SYMBOL_MAX_POINTS else None
    x, y = tuple(series.x), tuple(series.y)
    if smoothing <= 0 or len(series) < 2:
        return [PlotLine(plot, key, x, y, colour, label, width, symbol=symbol)]
    raw = PlotLine(plot, key + ("raw",), x, y, colour, None, 1.0, faint=True, symbol=symbol)
    return [raw, PlotLine(plot, key, x, tuple(ema_smooth(y, smoothing)), colour, label, width)]


def _eval_line(key, label, series, colour, symbol, dashed) -> list[PlotLine]:
    if not len(series):
        return []
    return [PlotLine(EVAL_PLOT, key, tuple(series.x), tuple(series.y), colour, label, 2.0, dashed, symbol=symbol)]


def _loss_order(item):
    """'total' first, then the parts alphabetically (stable colours across refreshes)."""
    name = item[0]
    return (name != "total", name)
