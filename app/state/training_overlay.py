"""What the Training panel's plots draw, as plain data: one run in detail, or several runs overlaid.

One run: every loss term of each stage in its own colour, mAP / R1 of every test set. Several runs
(TensorBoard-style): one colour per run, the chosen loss term of each stage and the chosen test set's
mAP (circles, solid) and R1 (triangles, dashed) on shared axes, the run names in the legends — each
run by the part of its name that tells it from the other runs drawn (:func:`app.state.names.
distinguishing_names`: ``…gate_off…`` / ``…gate_on…``), the whole name in the line's ``run``.

Every line is drawn along the x axis :attr:`PlotOptions.x_axis` picks (``app.state.curves.X_AXES``:
epochs of its stage, the global optimizer step, or wall-clock minutes since the run started).

Loss series are drawn smoothed with TensorBoard's debiased EMA (:func:`ema_smooth`) over a faint copy
of the raw series; the curves (``app.state.curves``) keep the raw data. Series with few points get
symbols, so a one-epoch run's single points stay visible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from app.state.curves import X_AXES
from app.state.names import distinguishing_names
from app.state.test_sets import first_test_set, ordered_test_sets

DEFAULT_SMOOTHING = 0.6      # TensorBoard's default weight
MAX_SMOOTHING = 0.99
SYMBOL_MAX_POINTS = 20       # series with at most this many points show a marker on each point
LOSS_PLOTS = {1: "loss1", 2: "loss2"}
EVAL_PLOT = "eval"
EVAL_STYLES = (("mAP", "o", False), ("R1", "t1", True))   # metric, symbol, dashed
LEGEND_MAX_CHARS = 28        # longer run names are elided in the middle in the legends
X_AXIS_TITLES = {"epoch": "epoch", "step": "step (both stages)", "time": "wall time (min)"}


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
    run: str = ""                  # the run's whole name
    series: str = ""               # what it shows: "total", "total (raw)", "mAP synthped", ...


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
    x_axis: str = "epoch"          # one of app.state.curves.X_AXES

    def __post_init__(self) -> None:
        if self.x_axis not in X_AXES:
            raise ValueError(f"x axis must be one of {', '.join(X_AXES)}, got {self.x_axis!r}")


def plot_lines(runs: list[PlottedRun], options: PlotOptions = PlotOptions(), cache: dict | None = None
               ) -> list[PlotLine]:
    """Every line of the three plots: the detailed view of one run, or the overlay of several. With a
    ``cache`` (a dict the caller keeps between calls), a run whose curves took no event since the last
    call gives the very same lines (no smoothing again; the widget sees identical data and skips them):
    a live tick rebuilds only the run that trains."""
    if len(runs) == 1:
        return _cached(cache, runs[0], "", options, lambda: _single_run_lines(runs[0], options))
    shown = distinguishing_names([run.name for run in runs])
    lines = [line for run, name in zip(runs, shown)
             for line in _cached(cache, run, name, options, lambda r=run, n=name: _overlay_run_lines(r, n, options))]
    if cache is not None:   # forget runs no longer drawn
        for key in [key for key, (curves, _, _) in cache.items() if all(curves is not run.curves for run in runs)]:
            del cache[key]
    return lines


def _cached(cache, run: PlottedRun, name: str, options: PlotOptions, build) -> list[PlotLine]:
    if cache is None:
        return build()
    key = (run.name, name, run.colour, options)
    hit = cache.get(key)
    if hit is not None and hit[0] is run.curves and hit[1] == run.curves.num_events:
        return hit[2]
    lines = build()
    cache[key] = (run.curves, run.curves.num_events, lines)
    return lines


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


def last_eval_epoch(runs: list[PlottedRun], x_axis: str = "epoch") -> float:
    """The largest epoch of any evaluation point (0 when none): the eval plot spans 0..this; 0 along
    another x axis (the plot fits its points)."""
    if x_axis != "epoch":
        return 0.0
    return max((x for run in runs for series in run.curves.evals.values() for s in series.values() for x in s.x),
               default=0.0)


def eval_x_range(runs: list[PlottedRun], x_axis: str = "epoch") -> tuple[float, float]:
    """The x span of the evaluation plot: epochs 0..the last evaluated one; along steps or wall time, from
    where stage 2 starts to the last evaluation (so evaluations made only at the end sit at the right, as
    along epochs). ``(0, 0)`` when nothing was evaluated."""
    if x_axis == "epoch":
        return 0.0, last_eval_epoch(runs)
    evals = [x for run in runs for series in run.curves.evals.values() for s in series.values()
             for x in s.along(x_axis)[0]]
    if not evals:
        return 0.0, 0.0
    starts = [xs[0] for run in runs for s in run.curves.losses(2).values() for xs in [s.along(x_axis)[0]] if xs]
    return min(starts + evals), max(evals)


def _single_run_lines(run: PlottedRun, options: PlotOptions) -> list[PlotLine]:
    curves, lines = run.curves, []
    for stage, plot in LOSS_PLOTS.items():
        for index, (name, series) in enumerate(sorted(curves.losses(stage).items(), key=_loss_order)):
            width = 2.2 if name == "total" else 1.4
            lines += _loss_lines(plot, ("loss", stage, name), name, series, index, width, options, run.name)
    several = len(curves.evals) > 1
    for index, dataset in enumerate(ordered_test_sets(curves.evals)):
        series = curves.evals[dataset]
        for offset, (metric, symbol, dashed) in enumerate(EVAL_STYLES):
            label = f"{metric} {short_dataset(dataset)}" if several else metric
            lines += _eval_line(("eval", dataset, metric), label, series[metric], 2 * index + offset, symbol, dashed,
                                options.x_axis, run.name, f"{metric} {short_dataset(dataset)}")
    return lines


def _overlay_run_lines(run: PlottedRun, name: str, options: PlotOptions) -> list[PlotLine]:
    lines = []
    for stage, plot in LOSS_PLOTS.items():
        series = run.curves.losses(stage).get(options.loss_term)
        if series is not None:
            key = ("loss", run.name, stage, options.loss_term)
            lines += _loss_lines(plot, key, name, series, run.colour, 2.0, options, run.name)
    dataset = options.eval_dataset or first_test_set(run.curves.evals)
    if dataset in run.curves.evals:   # a run not evaluated on the chosen test set draws no evaluation
        for metric, symbol, dashed in EVAL_STYLES:
            label = name if metric == "mAP" else None   # one legend entry per run
            lines += _eval_line(("eval", run.name, metric), label, run.curves.evals[dataset][metric], run.colour,
                                symbol, dashed, options.x_axis, run.name, f"{metric} {short_dataset(dataset)}")
    return lines


def _loss_lines(plot, key, label, series, colour, width, options: PlotOptions, run: str) -> list[PlotLine]:
    x, y = (tuple(values) for values in series.along(options.x_axis))
    if not x:
        return []
    term = key[-1]
    symbol = "o" if len(x) <= SYMBOL_MAX_POINTS else None
    if options.smoothing <= 0 or len(x) < 2:
        return [PlotLine(plot, key, x, y, colour, label, width, symbol=symbol, run=run, series=term)]
    raw = PlotLine(plot, key + ("raw",), x, y, colour, None, 1.0, faint=True, symbol=symbol, run=run,
                   series=f"{term} (raw)")
    return [raw, PlotLine(plot, key, x, tuple(ema_smooth(y, options.smoothing)), colour, label, width, run=run,
                          series=f"{term} (smoothed {options.smoothing:.2f})")]


def _eval_line(key, label, series, colour, symbol, dashed, x_axis, run, name) -> list[PlotLine]:
    x, y = (tuple(values) for values in series.along(x_axis))
    if not x:
        return []
    return [PlotLine(EVAL_PLOT, key, x, y, colour, label, 2.0, dashed, symbol=symbol, run=run, series=name)]


def _loss_order(item):
    """'total' first, then the parts alphabetically (stable colours across refreshes)."""
    name = item[0]
    return (name != "total", name)
