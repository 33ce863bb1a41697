"""The Training panel as a user sees it: no stale curves after a new selection or a new run, load
errors in place of data, one status (pid liveness + events) everywhere, layouts that never widen the
window, full run names, visible single points, and several runs overlaid TensorBoard-style."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.services import core_client
from app.state.launch import LaunchRequest
from app.state.training_overlay import ema_smooth
from app.widgets.plotting import pg
from tests.support import copy_run_record

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]   # a 'training' that never writes events
HOLD_THE_LOCK = """import sys, time
from scing_core.runs.lock import RunLock
with RunLock(sys.argv[1]):   # what `scing train` holds while it trains
    print("locked", flush=True)
    time.sleep(120)
"""


def _event(kind, at=None, **fields):
    return json.dumps({"v": 1, "type": kind, "time": round(at or time.time(), 3), **fields}) + "\n"




def _handmade_run(config_source: Path, target: Path, *events: str) -> Path:
    target.mkdir(parents=True)
    shutil.copy(config_source / "config.yaml", target / "config.yaml")
    (target / "events.jsonl").write_text("".join(events))
    return target


def _points(plots) -> int:
    """Data points drawn in the three plots (works on any version of the widget)."""
    items = [i for p in (*plots.loss_plots.values(), plots.eval_plot) for i in p.getPlotItem().listDataItems()]
    return sum(len(item.xData) for item in items if item.xData is not None)


def _messages(plots) -> str:
    texts = [i for p in (*plots.loss_plots.values(), plots.eval_plot) for i in p.getPlotItem().items
             if isinstance(i, pg.TextItem)]
    return " | ".join(text.textItem.toPlainText() for text in texts)


def _table_status(panel, path) -> str:
    row = next(r for r in range(panel.table.rowCount())
               if Path(panel.table.item(r, 0).data(Qt.ItemDataRole.UserRole)) == Path(path))
    return panel.table.item(row, 3).text()


def _settle() -> None:
    for _ in range(5):
        QApplication.processEvents()


@contextlib.contextmanager
def _job_that_never_writes(panel, run: Path, qtbot, monkeypatch):
    """Launch a 'training' from the panel that only sleeps; killed on the way out (a window closing
    with running jobs would ask the user, and no one would answer)."""
    monkeypatch.setattr(core_client, "train_command", lambda *args, **kwargs: list(SLEEPER))
    job = panel.launch(LaunchRequest("synthped/scing/quick", run, ()))
    try:
        yield job
    finally:
        if job.is_running():
            with qtbot.waitSignal(job.finished, timeout=20000):
                job.process.process.kill()


@pytest.fixture
def two_runs(tiny_runs, tmp_path) -> Path:
    for name in ("scing", "clipreid"):
        copy_run_record(Path(tiny_runs[name]), tmp_path / "runs" / name)
    return tmp_path


# -- 1. stale data -------------------------------------------------------------------------------------
def test_a_run_started_from_the_form_never_shows_the_selected_runs_curves(open_window, two_runs, qtbot, monkeypatch):
    panel = open_window(two_runs).training
    panel.select_run(two_runs / "runs" / "scing")
    qtbot.waitUntil(lambda: _points(panel.plots) > 0, timeout=20000)
    with _job_that_never_writes(panel, two_runs / "runs" / "fresh", qtbot, monkeypatch):
        assert _points(panel.plots) == 0, "the new run's plots still hold the previous run's curves"
        assert "fresh" in panel.title.text()


def test_a_run_whose_events_cannot_be_read_shows_the_error_instead_of_the_last_curves(open_window, two_runs, qtbot,
                                                                                    monkeypatch):
    panel = open_window(two_runs).training
    panel.select_run(two_runs / "runs" / "scing")
    qtbot.waitUntil(lambda: _points(panel.plots) > 0, timeout=20000)

    def unreadable(run_dir):
        raise PermissionError(f"[Errno 13] Permission denied: '{run_dir}/events.jsonl'")

    monkeypatch.setattr(core_client, "read_run_events", unreadable)
    panel.select_run(two_runs / "runs" / "clipreid")
    qtbot.waitUntil(lambda: "Permission denied" in _messages(panel.plots), timeout=10000)
    assert _points(panel.plots) == 0
    assert "Permission denied" in panel.details.text() and "clipreid" in panel.title.text()


# -- 2. status truth -----------------------------------------------------------------------------------
def test_a_run_killed_elsewhere_stops_being_running_without_reselecting_it(open_window, tiny_runs, tmp_path, qtbot):
    run = _handmade_run(Path(tiny_runs["scing"]), tmp_path / "runs" / "elsewhere",
                        _event("run_started", method="scing", dataset="synthped", resume=False, world_size=1,
                               device="cpu", config=None),
                        _event("stage_started", stage=1, name="prompts", epochs=2, start_epoch=0),
                        _event("step", stage=1, epoch=0, step=0, steps=2, lr=0.01, losses={"total": 3.0}))
    trainer = subprocess.Popen([sys.executable, "-c", HOLD_THE_LOCK, str(run)], stdout=subprocess.PIPE, text=True)
    try:
        assert trainer.stdout.readline().strip() == "locked"
        panel = open_window(tmp_path).training
        qtbot.waitUntil(lambda: _table_status(panel, run) == "running" and panel.title.text().endswith("running"),
                        timeout=20000)
        trainer.kill()    # SIGKILL: no run_finished event, train.lock left behind
        trainer.wait()
        qtbot.waitUntil(lambda: _table_status(panel, run) != "running", timeout=10000)
        assert _table_status(panel, run) == "killed" and panel.title.text() == "elsewhere — killed"
        assert panel.resume_button.isEnabled() and not panel.stop_button.isEnabled()
    finally:
        trainer.kill()
        trainer.wait()


def test_a_job_started_here_says_running_in_the_title_and_the_table_alike(open_window, two_runs, qtbot, monkeypatch):
    panel = open_window(two_runs).training
    run = two_runs / "runs" / "fresh"
    with _job_that_never_writes(panel, run, qtbot, monkeypatch):
        assert panel.title.text() == "fresh — running" and _table_status(panel, run) == "running"
    # killed (the context's exit: SIGKILL): no run_finished event, and the exit signal says killed, not failed
    qtbot.waitUntil(lambda: _table_status(panel, run) == "killed", timeout=10000)
    assert panel.title.text() == "fresh — killed"


def test_the_table_title_and_buttons_follow_the_state_with_no_refresh_call(qtbot, monkeypatch):
    """The panel only draws: facts handed to its state reach the table, the title and the buttons."""
    from app.panels.training_panel import TrainingPanel
    from app.state.runs import RunRow
    from app.state.runs_status import RunFacts
    from app.state.training import STOP_ELSEWHERE_TOOLTIP

    panel = TrainingPanel()
    qtbot.addWidget(panel)
    panel.status_timer.stop()                                       # no facts but ours
    monkeypatch.setattr(panel.sources, "show", lambda *args, **kwargs: None)   # and no events read
    run = Path("/ws/runs/a")
    panel.runs.set_rows([RunRow("a", run, "scing", "synthped", "stopped"),
                         RunRow("b", Path("/ws/runs/b"), "scing", "synthped", "completed")])
    panel.runs.select(run)
    assert panel.table.rowCount() == 2 and panel.table.selectedIndexes()[0].row() == 0
    assert panel.resume_button.isEnabled() and _table_status(panel, run) == "stopped"
    panel.runs.set_facts({run: RunFacts("stopped", writer=True)})   # resumed in another process
    assert _table_status(panel, run) == "running" and panel.title.text() == "a — running"
    assert not panel.resume_button.isEnabled() and not panel.stop_button.isEnabled()
    assert panel.stop_button.toolTip() == STOP_ELSEWHERE_TOOLTIP
    panel.shutdown()


# -- 3. layout -----------------------------------------------------------------------------------------
def test_long_errors_wrap_or_elide_and_never_widen_the_window(open_window, tiny_runs, tmp_path, qtbot, monkeypatch):
    message = "CUDA error: out of memory while allocating " + " ".join(["tensor"] * 80) + " at /very/long/" + "x" * 300
    run = _handmade_run(Path(tiny_runs["scing"]), tmp_path / "runs" / "crashed",
                        _event("run_started", method="scing", dataset="synthped", resume=False, world_size=1,
                               device="cpu", config=None),
                        _event("error", message=message), _event("run_finished", status="failed", seconds=1.0))
    window = open_window(tmp_path)
    panel, width = window.training, window.width()
    panel.select_run(run)
    qtbot.waitUntil(lambda: "failed" in panel.title.text() and "out of memory" in panel.progress_label.text(),
                    timeout=20000)
    monkeypatch.setattr(core_client, "launch_overrides", lambda *args: (_ for _ in ()).throw(ValueError(message)))
    panel.form.name.setText("another")
    panel.form.submit()                          # the banner gets the long message too
    assert "out of memory" in panel.banner.message
    _settle()
    assert window.minimumSizeHint().width() <= width and window.width() == width


def test_run_names_are_elided_in_the_middle_so_similar_names_stay_distinct(open_window, tiny_runs, tmp_path):
    names = [f"scing-synthped-demo-lr2e-4-warmup10-seed{seed}" for seed in (1, 2, 3)]
    for name in names:
        copy_run_record(Path(tiny_runs["scing"]), tmp_path / "runs" / name)
    panel = open_window(tmp_path).training
    table = panel.table
    available = table.columnWidth(0) - 50        # minus check box, colour swatch and padding
    shown = {table.fontMetrics().elidedText(name, table.textElideMode(), available) for name in names}
    assert len(shown) == len(names), f"names look identical in the table: {shown}"
    assert all(table.item(r, 0).toolTip().splitlines()[0] in names for r in range(table.rowCount()))


def test_a_one_epoch_run_draws_its_single_points_with_markers(open_window, tiny_runs, tmp_path, qtbot):
    run = _handmade_run(Path(tiny_runs["scing"]), tmp_path / "runs" / "one-epoch",
                        _event("run_started", method="scing", dataset="synthped", resume=False, world_size=1,
                               device="cpu", config=None),
                        *[_event("epoch_end", stage=s, epoch=0, epochs=1, lr=0.01, losses={"total": 2.0 / s, "id": 1.0})
                          for s in (1, 2)],
                        _event("eval", stage=2, epoch=0, dataset="synthped", mAP=0.4, R1=0.5),
                        _event("run_finished", status="completed", seconds=1.0, metrics={}))
    panel = open_window(tmp_path).training
    panel.select_run(run)
    qtbot.waitUntil(lambda: _points(panel.plots) >= 6, timeout=20000)
    single = [item for plot in panel.plots.loss_plots.values() for item in plot.getPlotItem().listDataItems()
              if item.xData is not None and len(item.xData) == 1]
    assert single and all(item.opts["symbol"] is not None for item in single)


# -- 4. runs overlaid ----------------------------------------------------------------------------------
def test_ticked_runs_are_overlaid_one_colour_each_with_smoothing_and_log_scale(open_window, two_runs, qtbot):
    panel = open_window(two_runs).training
    table = panel.table
    for r in range(table.rowCount()):
        table.item(r, 0).setCheckState(Qt.CheckState.Checked)      # the user ticks both runs
    names = {"clipreid", "scing"}
    loss = panel.plots.loss_plots[2].getPlotItem()
    qtbot.waitUntil(lambda: {label.text for _, label in loss.legend.items} == names, timeout=20000)
    drawn = {key[1]: item for key, item in panel.plots.drawn_lines("loss2").items() if key[-1] != "raw"}
    assert set(drawn) == names and len({item.opts["pen"].color().name() for item in drawn.values()}) == 2
    evals = panel.plots.eval_plot.getPlotItem()
    assert {label.text for _, label in evals.legend.items} == names
    raw = list(panel.curves[two_runs / "runs" / "scing"].losses(2)["total"].y)
    panel.controls.set_smoothing(0.0)
    assert list(panel.plots.drawn_lines("loss2")[("loss", "scing", 2, "total")].yData) == pytest.approx(raw)
    panel.controls.set_smoothing(0.9)
    smoothed = panel.plots.drawn_lines("loss2")[("loss", "scing", 2, "total")].yData
    assert list(smoothed) == pytest.approx(ema_smooth(raw, 0.9))
    assert list(panel.curves[two_runs / "runs" / "scing"].losses(2)["total"].y) == raw   # raw data kept
    panel.controls.log_scale.setChecked(True)
    assert loss.getAxis("left").logMode and not evals.getAxis("left").logMode
