"""Issue 20, Training: the New-run form follows the open workspace, a run killed by a signal reads
"killed" (also before its process is reaped), the status bar counts a run started here at once, Training
and Retrieval open the same test set first, and loss legends leave the newest points visible."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, QProcess, Qt

from app.services import core_client
from app.state.launch import LaunchRequest
from app.state.training_overlay import short_dataset

HOLISTIC, OCCLUDED = "synthped@synthped", "synthped@synthped_occluded"


def _event(kind, **fields):
    return json.dumps({"v": 1, "type": kind, "time": round(time.time(), 3), **fields}) + "\n"


def _run(workspace: Path, name: str, *events: str) -> Path:
    """A run directory with a resolved config.yaml and ``events`` (no training)."""
    from scing_core.config.io import resolve_config, save_config

    run = workspace / "runs" / name
    run.mkdir(parents=True)
    save_config(resolve_config("synthped/scing/quick"), run / "config.yaml")
    (run / "events.jsonl").write_text("".join(events))
    return run


def _table_text(panel, path: Path, column: int) -> str:
    row = next(r for r in range(panel.table.rowCount())
               if Path(panel.table.item(r, 0).data(Qt.ItemDataRole.UserRole)) == Path(path))
    return panel.table.item(row, column).text()


def _status(panel, run: Path) -> str:
    return panel.runs.status_of(panel.runs.rows[panel.runs.index_of(run)])


@contextlib.contextmanager
def _job(panel, run: Path, qtbot, monkeypatch, script: str = "import time; time.sleep(120)"):
    """A 'training' started from the panel that only runs ``script``; killed on the way out."""
    monkeypatch.setattr(core_client, "train_command", lambda *args, **kwargs: [sys.executable, "-c", script])
    job = panel.launch(LaunchRequest("synthped/scing/quick", run, ()))
    try:
        yield job
    finally:
        if job.process.is_running():
            with qtbot.waitSignal(job.finished, timeout=60000):
                job.process.process.kill()


# -- 1. the New-run form follows the open workspace ------------------------------------------------------
def test_a_workspace_switch_resets_the_new_run_form_to_that_workspaces_defaults(open_window, tmp_path, qtbot):
    demo, empty = (tmp_path / "demo").resolve(), (tmp_path / "empty").resolve()
    for split in ("synthped", "synthped_occluded"):
        (demo / "data" / split).mkdir(parents=True)
    (demo / "runs").mkdir()
    empty.mkdir()
    window = open_window(demo)
    form = window.training.form
    assert form.data_root.text() == str(demo / "data" / "synthped")
    form.dataset.setCurrentText("market1501")
    form.overrides.setText(f"model.pretrained={demo / 'synthclip' / 'synthclip-s.pt'}")
    form.name.setText("mine")
    form.nproc.setValue(2)

    window.open_workspace(empty)                               # File ▸ Open workspace…: an empty folder
    qtbot.waitUntil(lambda: form.workspace == empty, timeout=60000)
    assert form.data_root.text() == "" and form.overrides.text() == ""
    assert (form.dataset.currentText(), form.method.currentText(), form.variant.currentData()) == (
        "synthped", "scing", "quick")
    assert form.name.text() == "scing-quick" and form.nproc.value() == 1

    requests = []
    form.launchRequested.disconnect(window.training.launch)   # check the request; start nothing
    form.launchRequested.connect(requests.append)
    form.submit()
    (request,) = requests
    assert request.run_dir == empty / "runs" / "scing-quick"
    assert not [item for item in request.overrides if str(demo) in item], request.overrides

    typed = tmp_path / "my-data"
    typed.mkdir()
    form.data_root.setText(str(typed))
    scans = window.workspace.scans_done
    window.workspace.refresh()                                 # a rescan keeps what the user typed
    qtbot.waitUntil(lambda: window.workspace.scans_done > scans, timeout=60000)
    assert form.data_root.text() == str(typed)
    window.open_workspace(demo)                                # back: the demo's own data again
    qtbot.waitUntil(lambda: form.workspace == demo, timeout=60000)
    assert form.data_root.text() == str(demo / "data" / "synthped")
    form.dataset.setCurrentText("synthped_occluded")          # the suggested root follows the dataset
    assert form.data_root.text() == str(demo / "data" / "synthped_occluded")


# -- 5. a run killed by a signal -------------------------------------------------------------------------
@pytest.mark.skipif(not hasattr(os, "waitid"), reason="needs waitid (Linux)")
def test_a_run_killed_by_a_signal_reads_killed_before_and_after_its_process_is_reaped(open_window, tmp_path, qtbot,
                                                                                      monkeypatch):
    (tmp_path / "runs").mkdir()
    panel = open_window(tmp_path).training
    run = tmp_path.resolve() / "runs" / "fresh"
    script = "import time; print('INFO stage 1 · epoch 1/60 · loss 3.21', flush=True); time.sleep(120)"
    with _job(panel, run, qtbot, monkeypatch, script) as job:
        qtbot.waitUntil(lambda: "INFO stage 1" in "".join(job.log_text), timeout=60000)
        pid = job.process.process.processId()
        os.kill(pid, signal.SIGKILL)
        os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)   # it has died; left unreaped for QProcess
        assert job.process.process.state() != QProcess.ProcessState.NotRunning   # no event processed yet
        panel.refresh_statuses()
        assert _status(panel, run) == "killed" and panel.title.text() == "fresh — killed"
        assert not panel.stop_button.isEnabled()
        with qtbot.waitSignal(job.finished, timeout=60000) as finished:
            pass
    assert finished.args == ["killed"]
    qtbot.waitUntil(lambda: _table_text(panel, run, 3) == "killed", timeout=60000)
    assert panel.title.text() == "fresh — killed" and panel.resume_button.isEnabled()
    assert "killed by SIGKILL" in panel.banner.message and "INFO" not in panel.banner.message


# -- 7a. the status bar counts a run started here --------------------------------------------------------
def test_a_run_started_from_the_window_is_counted_in_the_status_bar_at_once(open_window, tmp_path, qtbot,
                                                                           monkeypatch):
    for name in ("clipreid", "cocoop", "scing"):
        _run(tmp_path, name)
    window = open_window(tmp_path)
    assert window.workspace_label.text().endswith("· 3 runs")
    with _job(window.training, tmp_path.resolve() / "runs" / "fresh", qtbot, monkeypatch):
        assert window.workspace_label.text().endswith("· 4 runs")   # before any scan could list it
        scans = window.workspace.scans_done
        window.workspace.refresh()                                    # a scan that does not list it yet
        qtbot.waitUntil(lambda: window.workspace.scans_done > scans, timeout=60000)
        assert window.workspace_label.text().endswith("· 4 runs")


def test_the_workspace_counts_runs_started_here_once_and_forgets_them_on_a_switch(tmp_path):
    from app.state.runs import RunRow
    from app.state.workspace import EMPTY, READY, WorkspaceState, describe_workspace

    here, other = tmp_path / "here", tmp_path / "other"
    here.mkdir()
    other.mkdir()
    state, told = WorkspaceState(), []
    state.status_changed.connect(told.append)
    state.set_scan(describe_workspace(here, 0, False), [])
    assert told[-1].kind == EMPTY
    state.add_run(here / "runs" / "fresh")
    assert (told[-1].kind, told[-1].headline()) == (READY, "1 run")
    state.add_run(other / "runs" / "elsewhere")                   # not in this workspace: not counted
    assert state.status.num_runs == 1
    listed = RunRow("fresh", here / "runs" / "fresh", "scing", "synthped", "running")
    state.set_scan(describe_workspace(here, 1, False), [listed])  # the scan lists it now: still one run
    assert told[-1].headline() == "1 run"
    state.set_scan(describe_workspace(other, 0, False), [])
    assert told[-1].kind == EMPTY and told[-1].path == other


# -- 7b. Training and Retrieval open the same test set ---------------------------------------------------
def _evaluated_run(workspace: Path, name: str, occluded_map: float, holistic_map: float) -> Path:
    """A completed run evaluated on the occluded split first, then the holistic one (as the demo's),
    with both eval folders (only their metrics.json)."""
    scores = {OCCLUDED: occluded_map, HOLISTIC: holistic_map}
    run = _run(workspace, name,
               _event("run_started", method="scing", dataset="synthped", resume=False, world_size=1, device="cpu",
                      config=None),
               *[_event("eval", stage=2, epoch=4, dataset=label, mAP=value, R1=value + 0.1, final=True)
                 for label, value in scores.items()],
               _event("run_finished", status="completed", seconds=1.0, metrics={}))
    final = {label: {"mAP": value, "R1": value + 0.1} for label, value in scores.items()}
    (run / "metrics.json").write_text(json.dumps({"final": final}))
    for label in scores:
        (run / "eval" / label).mkdir(parents=True)
        (run / "eval" / label / "metrics.json").write_text(json.dumps(final[label]))
    return run


def test_training_and_retrieval_show_the_same_test_set_first(open_window, tmp_path, qtbot):
    a = _evaluated_run(tmp_path, "a", occluded_map=0.3, holistic_map=0.6)
    _evaluated_run(tmp_path, "b", occluded_map=0.2, holistic_map=0.5)
    window = open_window(tmp_path)
    panel, retrieval = window.training, window.retrieval
    qtbot.waitUntil(lambda: retrieval.eval_combo.count() == 2, timeout=60000)
    first = retrieval.eval_combo.currentText()
    assert _table_text(panel, a.resolve(), 2) == short_dataset(first)          # the split the table reports
    assert _table_text(panel, a.resolve(), 4) == ("60.0" if first == HOLISTIC else "30.0")
    for r in range(panel.table.rowCount()):
        panel.table.item(r, 0).setCheckState(Qt.CheckState.Checked)           # overlaid: one test set
    qtbot.waitUntil(lambda: panel.controls.eval_dataset.count() == 2, timeout=60000)
    assert panel.controls.eval_dataset.currentData() == first


# -- 7c. loss legends leave the newest points visible -----------------------------------------------------
def test_loss_legends_never_cover_the_newest_points(open_window, tmp_path, qtbot):
    totals = [3.0, 2.0, 1.2, 0.8, 2.7]   # the newest epoch jumps back up: its point lies near the top right
    run = _run(tmp_path, "spike",
               _event("run_started", method="scing", dataset="synthped", resume=False, world_size=1, device="cpu",
                      config=None),
               *[_event("epoch_end", stage=stage, epoch=e, epochs=len(totals), lr=0.01,
                        losses={"total": total / stage, "id": total / (2 * stage)})
                 for stage in (1, 2) for e, total in enumerate(totals)],
               _event("run_finished", status="completed", seconds=1.0, metrics={}))
    panel = open_window(tmp_path).training
    panel.controls.set_smoothing(0.0)
    panel.select_run(run.resolve())
    plots = [plot.getPlotItem() for plot in panel.plots.loss_plots.values()]

    def newest_points(item):
        lines = [line for line in item.listDataItems() if line.isVisible() and line.xData is not None
                 and len(line.xData)]
        return [item.getViewBox().mapViewToScene(QPointF(line.xData[-1], line.yData[-1])) for line in lines]

    def drawn_and_ranged():
        return all(item.legend.isVisible() and len(newest_points(item)) == 2
                   and all(item.getViewBox().sceneBoundingRect().contains(p) for p in newest_points(item))
                   for item in plots)

    qtbot.waitUntil(drawn_and_ranged, timeout=60000)
    for item in plots:
        legend, view = item.legend.sceneBoundingRect(), item.getViewBox().sceneBoundingRect()
        assert not [p for p in newest_points(item) if legend.contains(p)], "a legend hides the newest points"
        assert legend.right() < view.center().x()   # anchored on the left: the right ends stay clear
