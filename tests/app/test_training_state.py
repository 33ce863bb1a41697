"""The Training panel's view-models without a display: TensorBoard smoothing, the status rule, the
runs overlaid and the lines the plots draw."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from app.state.curves import TrainingCurves
from app.state.runs import RunListState, RunRow
from app.state.runs_status import RunFacts, derive_status
from app.state.training_overlay import (SYMBOL_MAX_POINTS, PlotOptions, PlottedRun, ema_smooth, loss_terms,
                                        plot_lines)


# -- smoothing -----------------------------------------------------------------------------------------
def _debiased_ema_directly(values, w):
    """s_t = sum_i (1-w) w^(t-i) x_i / (1 - w^(t+1)): the closed form of TensorBoard's debiased EMA."""
    return [sum((1 - w) * w ** (t - i) * values[i] for i in range(t + 1)) / (1 - w ** (t + 1))
            for t in range(len(values))]


@pytest.mark.parametrize("weight", [0.0, 0.3, 0.6, 0.9, 0.99])
def test_ema_smoothing_matches_the_debiased_closed_form(weight):
    values = [5.0, 3.2, 4.1, 2.0, 2.5, 1.7, 1.9, 1.1, 1.4, 0.9]
    assert ema_smooth(values, weight) == pytest.approx(_debiased_ema_directly(values, weight), rel=1e-12)


def test_ema_smoothing_starts_at_the_first_value_skips_non_finite_and_keeps_constants():
    assert ema_smooth([4.0, 2.0], 0.6)[0] == pytest.approx(4.0)   # debiased: not pulled towards 0
    smoothed = ema_smooth([4.0, float("nan"), 2.0], 0.5)
    assert math.isnan(smoothed[1]) and smoothed[2] == pytest.approx(_debiased_ema_directly([4.0, 2.0], 0.5)[1])
    assert ema_smooth([3.0, 3.0, 3.0], 0.9) == [3.0, 3.0, 3.0] and ema_smooth([], 0.5) == []
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        ema_smooth([1.0], 1.0)


# -- status --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("facts, expected", [
    (RunFacts("running-or-killed", writer=True), "running"),
    (RunFacts("running-or-killed", events="running", lock_left=True, last_event_age=1.0), "killed"),
    (RunFacts("not-started", job_running=True), "running"),              # our process before its first event
    (RunFacts("not-started", events="running", job_ended="failed"), "failed"),   # our process died silently
    (RunFacts("completed", events="running", writer=True), "running"),   # resumed elsewhere
    (RunFacts("running-or-killed", events="stopped"), "stopped"),        # the events are newer than the scan
    (RunFacts("running-or-killed", last_event_age=5.0), "running"),      # no lock at all: recent events
    (RunFacts("running-or-killed", last_event_age=3600.0), "running-or-killed"),
    (RunFacts("not-started"), "not-started"),
    (RunFacts("damaged", writer=True), "damaged"),
])
def test_status_comes_from_liveness_first_then_events(facts, expected):
    assert derive_status(facts) == expected


# -- overlay -------------------------------------------------------------------------------------------
def _rows(*names):
    return [RunRow(name, Path("/ws/runs") / name, "scing", "synthped", "completed") for name in names]


def test_ticked_runs_are_plotted_in_table_order_and_keep_their_colour():
    state = RunListState()
    state.set_rows(_rows("a", "b", "c"))
    state.select(Path("/ws/runs/b"))
    assert state.plotted() == [(Path("/ws/runs/b"), 0)]            # nothing ticked: the selected run
    for name in ("c", "a"):
        state.set_overlaid(Path("/ws/runs") / name, True)
    assert state.plotted() == [(Path("/ws/runs/a"), 1), (Path("/ws/runs/c"), 0)]
    state.set_overlaid(Path("/ws/runs/c"), False)
    state.set_overlaid(Path("/ws/runs/b"), True)                   # takes the freed colour; a keeps its own
    assert state.plotted() == [(Path("/ws/runs/a"), 1), (Path("/ws/runs/b"), 0)]
    state.set_rows(_rows("b"))                                     # a disappeared from the workspace
    assert state.plotted() == [(Path("/ws/runs/b"), 0)]


def _curves(losses_per_epoch, epochs_evaluated=()):
    curves = TrainingCurves()
    events = [{"type": "run_started", "config": {}}]
    events += [{"type": "epoch_end", "stage": 1, "epoch": e, "epochs": len(losses_per_epoch),
                "losses": {"total": total, "id": total / 2}} for e, total in enumerate(losses_per_epoch)]
    events += [{"type": "eval", "epoch": e, "dataset": "synthped", "mAP": 0.5, "R1": 0.6} for e in epochs_evaluated]
    curves.add(events)
    return curves


def test_one_run_draws_every_term_several_runs_draw_one_term_each_in_their_colour():
    a, b = PlottedRun("a", 0, _curves([3.0, 2.0, 1.0], [2])), PlottedRun("b", 3, _curves([4.0, 1.0]))
    single = plot_lines([a], PlotOptions(smoothing=0.0))
    assert sorted(line.label for line in single if line.plot == "loss1") == ["id", "total"]
    overlay = plot_lines([a, b], PlotOptions(smoothing=0.0, loss_term="id"))
    loss = [line for line in overlay if line.plot == "loss1"]
    assert [(line.label, line.colour, line.y) for line in loss] == [("a", 0, (1.5, 1.0, 0.5)), ("b", 3, (2.0, 0.5))]
    evals = [line for line in overlay if line.plot == "eval"]
    assert [(line.label, line.symbol, line.dashed) for line in evals] == [("a", "o", False), (None, "t1", True)]
    assert loss_terms([a, b]) == ["total", "id"]


def test_smoothing_draws_the_ema_over_a_faint_raw_copy_and_leaves_the_curves_raw():
    curves = _curves([5.0, 3.0, 4.0, 1.0])
    lines = plot_lines([PlottedRun("a", 0, curves)], PlotOptions(smoothing=0.6))
    total = {line.faint: line for line in lines if line.key[:3] == ("loss", 1, "total")}
    assert total[True].y == (5.0, 3.0, 4.0, 1.0) and total[True].label is None
    assert total[False].y == pytest.approx(ema_smooth([5.0, 3.0, 4.0, 1.0], 0.6)) and total[False].label == "total"
    assert curves.losses(1)["total"].y == [5.0, 3.0, 4.0, 1.0]


def test_series_with_few_points_get_symbols():
    one_epoch = plot_lines([PlottedRun("a", 0, _curves([2.0]))])
    assert all(line.symbol == "o" for line in one_epoch if line.plot == "loss1")
    long_run = plot_lines([PlottedRun("a", 0, _curves([1.0 + i for i in range(SYMBOL_MAX_POINTS + 1)]))])
    assert all(line.symbol is None for line in long_run if line.plot == "loss1")


def test_long_run_names_are_elided_in_the_middle_in_legends():
    from app.state.training_overlay import legend_name

    name = "scing-synthped-demo-lr2e-4-warmup10-seed1"
    assert legend_name("scing-quick") == "scing-quick"
    assert len(legend_name(name)) == 28 and legend_name(name).startswith("scing-") and legend_name(name).endswith("seed1")


def test_overlaid_runs_draw_only_the_chosen_test_set():
    a, b = _curves([1.0], [0]), _curves([1.0], [0])
    b.add([{"type": "eval", "epoch": 0, "dataset": "other", "mAP": 0.1, "R1": 0.2}])
    a.evals = {"occluded": a.evals["synthped"]}      # a was evaluated on another test set only
    runs = [PlottedRun("a", 0, a), PlottedRun("b", 1, b)]
    chosen = plot_lines(runs, PlotOptions(eval_dataset="other"))
    assert {line.key[1] for line in chosen if line.plot == "eval"} == {"b"}
    assert {line.key[1] for line in plot_lines(runs, PlotOptions()) if line.plot == "eval"} == {"a", "b"}
