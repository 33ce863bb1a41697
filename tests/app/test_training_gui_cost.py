"""The Training panel's GUI-thread cost (issue 20, "no stall over 200 ms"): its plots are made over
event-loop turns, a restyled line keeps its plot item, wide lines take Qt's fast (aliased) path, and the
hyper-parameter table is rebuilt later, only while shown, and not when it would come out the same."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.state.training_overlay import PlotLine
from tests.support import copy_run_record


@pytest.fixture
def two_runs(tiny_runs, tmp_path) -> Path:
    for name in ("scing", "clipreid"):
        copy_run_record(Path(tiny_runs["scing"]), tmp_path / "runs" / name)
    return tmp_path


def _line(name: str, y: float, colour: int = 0, width: float = 1.4, symbol=None) -> PlotLine:
    return PlotLine("loss2", ("loss", 2, name), (0.0, 1.0, 2.0), (y, y, y), colour, name, width, symbol=symbol)


def test_the_plots_are_made_one_per_event_loop_turn_and_all_at_once_when_asked_for(qtbot):
    from app.widgets.training_plots import TrainingPlotsWidget

    later = TrainingPlotsWidget(build_in_turns=True)
    qtbot.addWidget(later)
    assert later._plots == {}   # the constructor made none
    qtbot.waitUntil(lambda: len(later._plots) == 3, timeout=60000)
    assert set(later.readout.cursors) == {"loss1", "loss2", "eval"}   # the readout follows each of them

    asked = TrainingPlotsWidget(build_in_turns=True)
    qtbot.addWidget(asked)
    assert asked.eval_plot is not None and len(asked._plots) == 3   # needed before its turn: made now
    assert set(asked._messages) == {"loss1", "loss2", "eval"} and asked.message == "no events yet"
    asked.show_lines([_line("total", 1.0)])
    assert set(asked.drawn_lines("loss2")) == {("loss", 2, "total")}


def test_a_line_restyled_keeps_its_plot_item_and_legend_entry(qtbot):
    from app.widgets.training_plots import TrainingPlotsWidget

    plots = TrainingPlotsWidget()
    qtbot.addWidget(plots)
    plots.show_lines([_line("total", 1.0, symbol="o")])   # a run of few epochs: markers
    item = plots.drawn_lines("loss2")[("loss", 2, "total")]
    assert item.opts["symbol"] == "o"
    plots.show_lines([_line("total", 2.0, colour=3)])   # a longer run: no markers, another colour
    assert plots.drawn_lines("loss2")[("loss", 2, "total")] is item
    assert item.opts["symbol"] is None and list(item.yData) == [2.0, 2.0, 2.0]
    assert [label.text for _, label in plots.loss_plots[2].getPlotItem().legend.items] == ["total"]


def test_wide_lines_are_drawn_aliased_and_thin_ones_one_pixel_antialiased(qtbot):
    from app.widgets.training_plots import TrainingPlotsWidget

    plots = TrainingPlotsWidget()
    qtbot.addWidget(plots)
    plots.show_lines([_line("total", 1.0, width=2.2), _line("id", 2.0, width=1.4)])
    drawn = plots.drawn_lines("loss2")
    wide, thin = drawn[("loss", 2, "total")], drawn[("loss", 2, "id")]
    assert not wide.opts["antialias"] and wide.opts["pen"].widthF() == 2.2
    assert thin.opts["antialias"] and thin.opts["pen"].widthF() == 1.0


def test_the_hparams_table_is_rebuilt_later_only_while_shown_and_not_when_unchanged(open_window, two_runs, qtbot):
    window = open_window(two_runs)
    panel = window.training
    window.tabs.setCurrentWidget(panel)
    qtbot.waitUntil(lambda: panel.hparams.rowCount() == 2 and not panel._hparams_stale, timeout=60000)
    calls = []
    set_table = panel.hparams.set_table
    panel.hparams.set_table = lambda *args, **kwargs: (calls.append(args), set_table(*args, **kwargs))
    panel.runs.rows_changed.emit()   # a rescan that changed nothing the table shows
    assert panel._hparams_stale and panel._hparams_timer.isActive() and not calls   # not in the slot
    qtbot.waitUntil(lambda: not panel._hparams_stale, timeout=60000)
    assert not calls   # the same table: not rebuilt

    window.tabs.setCurrentWidget(window.retrieval)   # hidden: a change waits until the table is shown
    panel.set_run_filter("^scing$")
    qtbot.waitUntil(lambda: not panel._hparams_timer.isActive(), timeout=60000)
    assert panel._hparams_stale and not calls and panel.hparams.rowCount() == 2
    window.tabs.setCurrentWidget(panel)
    qtbot.waitUntil(lambda: panel.hparams.rowCount() == 1, timeout=60000)
    assert len(calls) == 1 and panel.hparams.column_values("run") == ["scing"]
