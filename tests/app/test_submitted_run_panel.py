"""The Training panel with a submitted run, the scheduler stood in by functions (no Slurm, seconds): Stop
asks the scheduler in a worker instead of signalling a process, Resume submits the run again with its
launcher, and the New-run form's launcher follows the workspace."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from scing_core import api

from app.services import core_client
from app.state.runs_status import JobFacts


def _status(panel, run):
    return panel.runs.status_of(panel.runs.rows[panel.runs.index_of(run)])


def test_stop_and_resume_of_a_submitted_run_go_through_the_scheduler(open_window, tiny_runs, tmp_path, qtbot,
                                                                     monkeypatch):
    run = tmp_path / "runs" / "cluster"
    run.mkdir(parents=True)
    shutil.copy(Path(tiny_runs["scing"]) / "config.yaml", run / "config.yaml")   # submitted, not started yet
    jobs = {run: JobFacts("slurm", "1042", "running", "RUNNING", "node07")}
    stops, commands = [], []
    monkeypatch.setattr(core_client, "run_jobs", lambda paths: {Path(p): jobs.get(Path(p)) for p in paths})
    monkeypatch.setattr(core_client, "stop_run", lambda path: stops.append(Path(path)) or "asked job 1042 to stop")

    def train_command(preset, run_dir, overrides=(), resume=False, nproc=1, launcher=None):
        commands.append((Path(run_dir), resume, launcher))
        return [sys.executable, "-c", "print('Submitted batch job 1043')"]

    monkeypatch.setattr(core_client, "train_command", train_command)
    api.save_launcher_settings(tmp_path, api.LauncherSettings(kind="slurm", partition="gpu", time_min=45))
    window = open_window(tmp_path)
    panel = window.training
    panel.select_run(run)
    qtbot.waitUntil(lambda: _status(panel, run) == "running" and panel.stop_button.isEnabled(), timeout=20_000)
    assert "Slurm job 1042 · RUNNING on node07" in panel.details.text()
    assert "scancel --signal=INT" in panel.stop_button.toolTip() and not panel.resume_button.isEnabled()
    panel.stop_button.click()
    assert not panel.stop_button.isEnabled()                      # asked: waits for the scheduler
    qtbot.waitUntil(lambda: stops == [run], timeout=20_000)       # api.stop_run, in a worker
    assert panel.jobs.get(run) is None                            # no process of this window was signalled

    jobs[run] = JobFacts("slurm", "1042", "ended", "CANCELLED")
    panel.poll_scheduler()
    qtbot.waitUntil(lambda: _status(panel, run) == "stopped" and panel.resume_button.isEnabled(), timeout=20_000)
    assert "Submit the run again to Slurm" in panel.resume_button.toolTip()
    panel.resume_button.click()
    (run_dir, resume, launcher), = commands
    assert run_dir == run and resume and (launcher.kind, launcher.partition, launcher.time_min) == ("slurm", "gpu", 45)
    assert _status(panel, run) == "queued"                        # at once, while it submits
    jobs[run] = JobFacts("slurm", "1043", "queued", "PENDING")
    qtbot.waitUntil(lambda: panel.jobs[run].status == "submitted", timeout=20_000)
    qtbot.waitUntil(lambda: panel.runs.status_text(panel.runs.selected_row) == "queued · job 1043", timeout=20_000)
    assert "Cancel the queued job 1043" in panel.stop_button.toolTip()


def test_the_new_run_forms_launcher_follows_the_workspace_and_is_saved_when_submitted(open_window, tmp_path,
                                                                                      monkeypatch):
    first, second = tmp_path / "first", tmp_path / "second"
    for folder in (first, second):
        (folder / "runs").mkdir(parents=True)
    api.save_launcher_settings(first, api.LauncherSettings(kind="slurm", partition="gpu", gpus_per_run=2,
                                                           cpus_per_run=4, time_min=120))
    window = open_window(first)
    form = window.training.form
    fields = form.launcher
    assert (fields.kind, fields.partition.text(), fields.gpus.value(), fields.cpus.value(), fields.time.value()) == (
        "slurm", "gpu", 2, 4, 120)
    assert fields.slurm.isVisibleTo(form) and form.start_button.text() == "Submit to Slurm"
    fields.time.setValue(30)
    window.training.set_workspace(first, [])             # a rescan keeps what was typed
    assert fields.time.value() == 30
    window.training.set_workspace(second, [])            # another workspace: its (default) launcher
    assert fields.kind == "inline" and fields.time.value() == 24 * 60 and not fields.slurm.isVisibleTo(form)
    assert form.start_button.text() == "Start training" and form.nproc.isEnabled()

    requests = []
    form.launchRequested.disconnect(window.training.launch)
    form.launchRequested.connect(requests.append)
    fields.set_kind("slurm")
    fields.partition.setText("debug")
    fields.time.setValue(0)                              # the spin box refuses 0: 1 minute
    form.name.setText("to-slurm")
    form.submit()
    (request,) = requests
    assert (request.launcher.kind, request.launcher.partition, request.launcher.time_min) == ("slurm", "debug", 1)
    assert api.launcher_settings(second).partition == "debug"   # saved back
    fields.set_kind("inline")
    form.name.setText("here")
    form.submit()
    assert requests[-1].launcher is None and api.launcher_settings(second).kind == "inline"
    assert api.launcher_settings(second).partition == "debug"   # the Slurm values stay for next time
