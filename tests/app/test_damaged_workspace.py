"""The studio on damaged workspaces: a run whose files hold garbage is listed as damaged with the
reason, the other runs stay usable, no traceback reaches stderr; a run another process trains is
never resumed a second time."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from scing_core import api

DAMAGE = {
    "config-not-a-mapping": ("config.yaml", b"- just\n- a list\n", "must hold a mapping"),
    "config-garbage-bytes": ("config.yaml", b"\xff\xfe\x00garbage\x9c", "not UTF-8 text"),
    "metrics-garbage": ("metrics.json", b"\x00\x01{{not json", "metrics.json is unreadable"),
}


@pytest.fixture
def damaged_workspace(tiny_runs, tmp_path) -> Path:
    runs = tmp_path / "runs"
    shutil.copytree(tiny_runs["scing"], runs / "good")
    for name, (file, content, _) in DAMAGE.items():
        shutil.copytree(tiny_runs["clipreid"], runs / name)
        (runs / name / file).write_bytes(content)
    shutil.copytree(tiny_runs["cocoop"], runs / "events-garbage")
    with open(runs / "events-garbage" / "events.jsonl", "ab") as fh:
        fh.write(b"\xff\xfe garbage\n[1, 2]\n42\n")
    return tmp_path


def test_api_lists_damaged_runs_with_their_reason_and_keeps_the_others(damaged_workspace):
    runs = {summary.path.name: summary for summary in api.list_runs(damaged_workspace)}
    assert runs["good"].status == "completed" and runs["good"].problem == ""
    for name, (_, _, reason) in DAMAGE.items():
        assert runs[name].status == "damaged" and reason in runs[name].problem, runs[name]
    # garbage lines in an event log are skipped: the run stays readable and completed
    assert runs["events-garbage"].status == "completed"


def test_studio_lists_damaged_runs_and_the_other_panels_keep_working(open_window, damaged_workspace, qtbot, capfd):
    window = open_window(damaged_workspace)
    qtbot.waitUntil(lambda: len(window.training.runs.rows) == 5, timeout=20000)
    rows = {row.name: row for row in window.training.runs.rows}
    assert {name for name, row in rows.items() if row.damaged} == set(DAMAGE)
    assert "damaged: " in rows["config-not-a-mapping"].metrics_tooltip()
    window.training.select_run(damaged_workspace / "runs" / "metrics-garbage")
    assert "damaged" in window.training.title.text() and "metrics.json is unreadable" in window.training.details.text()
    assert not window.training.resume_button.isEnabled()
    window.training.select_run(damaged_workspace / "runs" / "good")
    run = damaged_workspace / "runs" / "good"
    qtbot.waitUntil(lambda: run in window.training.curves and window.training.curves[run].status == "completed",
                    timeout=20000)
    assert sorted(p.name for p in window.retrieval.run_paths) == ["events-garbage", "good"]
    assert "Traceback" not in capfd.readouterr().err


def test_resume_is_refused_while_another_process_trains_the_run(open_window, tiny_runs, tmp_path, qtbot):
    run = tmp_path / "runs" / "busy"
    shutil.copytree(tiny_runs["scing"], run)
    events = run / "events.jsonl"
    lines = [line for line in events.read_text().splitlines() if '"run_finished"' not in line]
    events.write_text("\n".join(lines) + "\n")   # looks interrupted: Resume would be offered
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (run / "train.lock").write_text(json.dumps({"pid": holder.pid, "host": os.uname().nodename, "since": 0}))
        window = open_window(tmp_path)
        panel = window.training
        qtbot.waitUntil(lambda: len(panel.runs.rows) == 1, timeout=20000)
        panel.select_run(run)
        errors = []
        panel.errorOccurred.connect(errors.append)
        assert panel.resume_selected() is None
        assert errors and f"process {holder.pid}" in errors[0] and run not in panel.jobs
    finally:
        holder.kill()
        holder.wait()
