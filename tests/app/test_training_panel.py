"""Training panel: reattaching to finished runs, form errors, and real `scing train` processes
launched from the panel (QProcess) — completed with live curves, and stopped with SIGTERM."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from scing_core import api

from app.state.launch import LaunchRequest
from tests.support import quick_overrides


def test_selecting_a_finished_run_draws_its_curves_from_events(open_window, tiny_workspace, qtbot):
    window = open_window(tiny_workspace)
    panel = window.training
    panel.runs.select(tiny_workspace / "runs" / "scing")
    panel.table.refresh()
    panel.show_run(tiny_workspace / "runs" / "scing")
    run = tiny_workspace / "runs" / "scing"
    qtbot.waitUntil(lambda: run in panel.curves and panel.curves[run].status == "completed", timeout=20000)
    curves = panel.curves[run]
    assert curves.stages == [1, 2] and len(curves.losses(1)["total"]) > 0
    assert curves.evals and "scing — completed" in panel.title.text()
    assert not panel.stop_button.isEnabled() and not panel.resume_button.isEnabled()
    assert panel.stream is None    # a finished run is not followed


def _event(kind, **fields):
    return json.dumps({"v": 1, "type": kind, "time": round(time.time(), 3), **fields}) + "\n"


def test_a_run_started_elsewhere_is_followed_live_until_it_finishes(open_window, tiny_runs, tmp_path, qtbot):
    """Reattach: the panel reads events.jsonl of a run it did not start and keeps following it."""
    run = tmp_path / "runs" / "elsewhere"
    run.mkdir(parents=True)
    shutil.copy(Path(tiny_runs["scing"]) / "config.yaml", run / "config.yaml")
    events = run / "events.jsonl"
    events.write_text(_event("run_started", method="scing", dataset="synthped", resume=False, world_size=1,
                             device="cpu", config=None)
                      + _event("stage_started", stage=1, name="prompts", epochs=2, start_epoch=0)
                      + _event("step", stage=1, epoch=0, step=0, steps=2, lr=0.01, losses={"total": 3.0}))
    window = open_window(tmp_path)
    panel = window.training
    qtbot.waitUntil(lambda: run in panel.curves, timeout=20000)
    assert panel.stream is not None and panel.runs.status_of(panel.runs.selected_row) == "running"
    assert not panel.resume_button.isEnabled() and not panel.stop_button.isEnabled()
    with open(events, "a") as fh:
        fh.write(_event("step", stage=1, epoch=0, step=1, steps=2, lr=0.01, losses={"total": 2.0}))
    qtbot.waitUntil(lambda: len(panel.curves[run].losses(1)["total"]) == 2, timeout=10000)
    with open(events, "a") as fh:
        fh.write(_event("run_finished", status="stopped", seconds=5.0, metrics={}))
    qtbot.waitUntil(lambda: panel.curves[run].status == "stopped" and not panel.stream.active, timeout=10000)
    qtbot.waitUntil(lambda: panel.runs.status_of(panel.runs.selected_row) == "stopped", timeout=20000)
    assert panel.resume_button.isEnabled()


def test_invalid_new_run_form_is_reported_in_the_panel(open_window, tiny_workspace):
    window = open_window(tiny_workspace)
    form = window.training.form
    form.name.setText("scing")                       # exists in the workspace
    form.submit()
    assert "already exists" in window.training.banner.message
    form.name.setText("fresh")
    form.overrides.setText("not-an-override")
    form.submit()
    assert "key=value" in window.training.banner.message
    assert not (tiny_workspace / "runs" / "fresh").exists()


def test_demo_variant_starts_from_the_workspace_synthclip_or_says_what_is_missing(open_window, tiny_workspace,
                                                                                  tmp_path):
    window = open_window(tiny_workspace)
    form, requests = window.training.form, []
    form.launchRequested.disconnect(window.training.launch)   # check the request; start nothing
    form.launchRequested.connect(requests.append)
    form.variant.setCurrentIndex(form.variant.findData("demo"))
    form.name.setText("demo-run")
    form.submit()                                    # the tiny workspace has no SynthCLIP
    assert "fine-tunes SynthCLIP" in window.training.banner.message and "scing synthclip" in window.training.banner.message
    assert not requests
    weights = tmp_path / "ws" / "synthclip" / "synthclip-s.pt"
    weights.parent.mkdir(parents=True)
    weights.write_bytes(b"")                         # only its presence matters to the form
    form.workspace = tmp_path / "ws"
    form.submit()
    assert requests and requests[0].overrides[-1] == f"model.pretrained={weights.resolve()}"
    form.overrides.setText("model.pretrained=/my/own.pt")
    form.name.setText("demo-run-2")
    form.submit()
    assert requests[-1].overrides == ("model.pretrained=/my/own.pt",)


def _request(workspace, name, root, *extra):
    overrides = [o for o in quick_overrides(root, *extra) if not o.startswith("data.root=")]
    return LaunchRequest("synthped/scing/quick", Path(workspace) / "runs" / name,
                         tuple(overrides + [f"data.root={root}"]))


@pytest.mark.slow
def test_launched_training_shows_live_curves_and_completes(open_window, tmp_path, tiny_synthped, qtbot):
    (tmp_path / "runs").mkdir()
    window = open_window(tmp_path)
    panel = window.training
    job = panel.launch(_request(tmp_path, "live", tiny_synthped))
    run = tmp_path / "runs" / "live"
    assert panel.runs.selected == run and panel.stop_button.isEnabled()
    qtbot.waitUntil(lambda: len(panel.curves[run].losses(1).get("total", ())) > 0, timeout=120000)
    with qtbot.waitSignal(job.finished, timeout=300000) as finished:
        pass
    assert finished.args == ["completed"]
    curves = panel.curves[run]
    assert curves.status == "completed" and curves.losses(2) and curves.evals
    assert panel.plots._items, "the plots drew curves"
    assert "stage 1" in panel.log.toPlainText()       # the process's console output reached the log view
    qtbot.waitUntil(lambda: any(r.path == run and r.status == "completed" for r in panel.runs.rows), timeout=20000)
    assert api.summarize_run(run).status == "completed"


@pytest.mark.slow
def test_stop_ends_a_running_job_stopped_and_resume_continues_it(open_window, tmp_path, tiny_synthped, qtbot):
    (tmp_path / "runs").mkdir()
    window = open_window(tmp_path)
    panel = window.training
    job = panel.launch(_request(tmp_path, "halt", tiny_synthped, "stage1.epochs=40", "stage2.epochs=40"))
    run = tmp_path / "runs" / "halt"
    qtbot.waitUntil(lambda: len(panel.curves[run].losses(1).get("total", ())) > 0, timeout=120000)
    with qtbot.waitSignal(job.finished, timeout=120000) as finished:
        panel.stop_button.click()
    assert finished.args == ["stopped"]
    assert api.summarize_run(run).status == "stopped" and (run / "checkpoints" / "last.pt").is_file()
    assert panel.resume_button.isEnabled() and not panel.stop_button.isEnabled()
    resumed = panel.resume_selected()
    assert "--resume" in resumed.process.argv
    qtbot.waitUntil(lambda: any(e.get("type") == "run_started" and e.get("resume")
                                for e in api.read_events(run / "events.jsonl")), timeout=120000)
    with qtbot.waitSignal(resumed.finished, timeout=120000):
        resumed.stop()
