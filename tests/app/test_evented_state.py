"""The studio's evented state without a display: the Training panel's TrainingState and the window's
WorkspaceState emit once per change (and never when nothing changed), and own the panel's rules —
statuses from facts, when Resume / Stop are allowed, runs ended elsewhere, why a run failed."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.state.runs import RunListState, RunRow
from app.state.runs_status import RunFacts
from app.state.training import (NO_RUNS_TEXT, STOP_ELSEWHERE_TOOLTIP, STOP_TOOLTIP, RunActions, TrainingState,
                                failure_message)
from app.state.workspace import WorkspaceState, describe_workspace

WS = Path("/ws")


def _row(name, status="completed"):
    return RunRow(name, WS / "runs" / name, "scing", "synthped", status)


def _state(*rows, select=None):
    state = TrainingState()
    state.set_rows(list(rows))
    if select is not None:
        state.select(WS / "runs" / select)
    return state


def _record(signal):
    """Every emission of a psygnal signal, as a list of argument tuples."""
    calls = []
    signal.connect(lambda *args: calls.append(args))
    return calls


# -- statuses ----------------------------------------------------------------------------------------------
def test_setting_facts_emits_statuses_changed_once_with_the_new_statuses():
    state = _state(_row("a", "running-or-killed"), _row("b", "running-or-killed"), _row("c", "completed"))
    emitted = _record(state.statuses_changed)
    state.set_facts({WS / "runs" / "a": RunFacts("running-or-killed", writer=True),
                     WS / "runs" / "b": RunFacts("running-or-killed", lock_left=True),
                     WS / "runs" / "c": RunFacts("completed")})
    assert emitted == [({WS / "runs" / "a": "running", WS / "runs" / "b": "killed"},)]
    assert [state.status_of(row) for row in state.rows] == ["running", "killed", "completed"]


def test_the_same_facts_again_emit_nothing():
    state = _state(_row("a", "running-or-killed"), select="a")
    facts = {WS / "runs" / "a": RunFacts("running-or-killed", writer=True)}
    state.set_facts(facts)
    statuses, actions = _record(state.statuses_changed), _record(state.actions_changed)
    assert state.set_facts(facts) == {}
    assert statuses == [] and actions == []


def test_a_run_that_stops_running_elsewhere_asks_for_a_rescan_once():
    state = _state(_row("a", "running-or-killed"), _row("mine", "not-started"))
    running = {WS / "runs" / "a": RunFacts("running-or-killed", writer=True),
               WS / "runs" / "mine": RunFacts("not-started", job_running=True, started_here=True)}
    state.set_facts(running)
    assert state.running_elsewhere() == [WS / "runs" / "a"]
    ended = _record(state.runs_ended_elsewhere)
    state.set_facts({WS / "runs" / "a": RunFacts("running-or-killed", events="completed"),
                     WS / "runs" / "mine": RunFacts("not-started", job_ended="stopped", started_here=True)})
    assert ended == [([WS / "runs" / "a"],)]   # our own job's end is reported by the job, not as a rescan
    assert state.running_elsewhere() == []


# -- actions -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("status, resumable", [
    ("stopped", True), ("failed", True), ("killed", True), ("running-or-killed", True),
    ("completed", False), ("not-started", False), ("damaged", False),
])
def test_resume_is_allowed_only_for_runs_that_stopped_before_the_end(status, resumable):
    state = _state(_row("a", status), select="a")
    assert state.actions == RunActions(resume=resumable, stop=False, stop_tooltip=STOP_TOOLTIP)


def test_a_run_trained_here_can_be_stopped_not_resumed_and_one_trained_elsewhere_neither():
    state = _state(_row("mine", "stopped"), _row("theirs", "stopped"), select="mine")
    emitted = _record(state.actions_changed)
    state.set_facts({WS / "runs" / "mine": RunFacts("stopped", job_running=True, started_here=True),
                     WS / "runs" / "theirs": RunFacts("stopped", writer=True)})
    assert emitted == [(RunActions(resume=False, stop=True, stop_tooltip=STOP_TOOLTIP),)]
    state.select(WS / "runs" / "theirs")
    assert emitted[-1] == (RunActions(resume=False, stop=False, stop_tooltip=STOP_ELSEWHERE_TOOLTIP),)
    state.select(None)
    assert emitted[-1] == (RunActions(),) and len(emitted) == 3


def test_failure_message_is_the_last_line_of_the_process_output_not_the_studios():
    log = ["$ scing train ...\n", "epoch 1\nValueError: data.root does not exist\n", "[studio] exit code 1\n"]
    assert failure_message("a", log) == "run a failed: ValueError: data.root does not exist"
    assert failure_message("a", ["[studio] failed to start\n"]) == "run a failed"


# -- the run list ---------------------------------------------------------------------------------------------
def test_selecting_emits_only_when_the_selection_changes():
    state = _state(_row("a"), _row("b"))
    emitted = _record(state.selection_changed)
    state.select(WS / "runs" / "a")
    state.select(WS / "runs" / "a")
    state.select(WS / "runs" / "nowhere")   # not listed: clears
    assert emitted == [(WS / "runs" / "a",), (None,)]


def test_a_rescan_emits_rows_changed_only_when_the_rows_differ_and_drops_a_vanished_selection():
    state = _state(_row("a"), _row("b"), select="b")
    rows, selection = _record(state.rows_changed), _record(state.selection_changed)
    state.set_rows([_row("b"), _row("a")])            # same runs, scan order: sorted the same
    assert rows == [] and selection == []
    state.set_rows([_row("a")])
    assert len(rows) == 1 and selection == [(None,)]


def test_a_new_workspace_selects_the_run_a_job_here_trains_and_lists_it_before_the_scan_does():
    state = TrainingState()
    emitted = _record(state.selection_changed)
    mine = WS / "runs" / "mine"
    state.show_scan(WS, [_row("a")], jobs={mine: "running", Path("/other/runs/x"): "running"}, running=[mine],
                    new_workspace=True)
    assert [row.name for row in state.rows] == ["a", "mine"] and emitted == [(mine,)]
    state.show_scan(WS, [_row("b"), _row("a")], jobs={})   # mine vanished: the scan's first run
    assert emitted[-1] == (WS / "runs" / "b",)
    state.show_scan(WS, [_row("a"), _row("b")], jobs={})   # a rescan keeps the selection
    assert len(emitted) == 2 and state.selected == WS / "runs" / "b"
    assert state.empty_text == "" and TrainingState().empty_text == NO_RUNS_TEXT


def test_ticking_several_runs_emits_one_overlay_change():
    state = _state(_row("a"), _row("b"), _row("c"))
    emitted = _record(state.overlay_changed)
    state.set_overlaid_runs([WS / "runs" / "a", WS / "runs" / "c"])
    state.set_overlaid_runs([WS / "runs" / "a", WS / "runs" / "c"])
    assert len(emitted) == 1 and [path.name for path, _ in state.plotted()] == ["a", "c"]


def test_plots_say_why_nothing_is_drawn():
    state = _state(_row("a"), _row("broken", "damaged"))
    assert state.plot_placeholder({}, lambda path: False) == "select a run"
    state.select(WS / "runs" / "broken")
    assert state.plot_placeholder({}, lambda path: False) == "damaged run: nothing to draw"
    state.select(WS / "runs" / "a")
    assert state.plot_placeholder({}, lambda path: True) == "loading events…"
    assert state.plot_placeholder({WS / "runs" / "a": "bad json"}, lambda path: False) == \
        "could not read the events — a: bad json"


def test_subscribers_are_the_only_listeners_and_can_leave():
    state = RunListState()
    seen = []
    callback = lambda: seen.append("rows")   # noqa: E731
    state.rows_changed.connect(callback)
    assert len(state.rows_changed) == 1
    state.set_rows([_row("a")])
    state.rows_changed.disconnect(callback)
    state.set_rows([_row("b")])
    assert seen == ["rows"] and len(state.rows_changed) == 0


# -- the workspace -----------------------------------------------------------------------------------------------
def test_every_scan_emits_workspace_changed_with_its_path_and_rows(tmp_path):
    state = WorkspaceState()
    emitted = _record(state.workspace_changed)
    rows = [_row("a")]
    status = describe_workspace(tmp_path, len(rows), is_default_demo=False)
    state.set_scan(status, rows)
    state.set_scan(status, rows)   # a rescan: the panels and the window hear of it even when nothing changed
    assert emitted == [(tmp_path, rows), (tmp_path, rows)]
    assert state.path == tmp_path and state.status.headline() == "1 run" and state.rows == rows
