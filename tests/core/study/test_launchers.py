"""Studies through launchers: local processes in parallel give the same study as the inline default;
a preempted job checkpoints, requeues and ends with the uninterrupted metrics; Slurm through stand-in
commands (tests/fake_slurm) submits a job array, is followed with --status and collected."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import time
from pathlib import Path

import pytest

from scing_core.cli import main as scing
from scing_core.pipeline.launchers import JobRecord, LauncherSettings, submission_script, submit
from scing_core.runs.events import read_events
from scing_core.runs.layout import RunDir
from scing_core.runs.lock import lock_holder
from scing_core.study.plan import load_plan
from scing_core.study.report import collect

from tests.support import write_plan

pytestmark = pytest.mark.slow
FAKE_SLURM = Path(__file__).resolve().parents[2] / "fake_slurm"


def final(folder: Path, run: str) -> dict:
    return json.loads((folder / "runs" / run / "metrics.json").read_text())["final"]


def statistics(plan_path, folder: Path, seeds: int) -> dict:
    study = collect(load_plan(str(plan_path), seeds=seeds), folder)
    return {key: study[key] for key in ("rows", "pairs", "test_sets")}


def wait_until(predicate, timeout: float, what: str):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def test_local_parallel_launcher_gives_the_same_study_as_the_inline_default(tiny_study, tmp_path):
    """With the CPU threads the inline study's runs had, two processes at once give the identical study."""
    plan, sequential = tiny_study
    workspace = tmp_path / "ws"
    threads = {e["cpu_threads"] for run in ("clipreid-s0", "scing-s1")
               for e in read_events(sequential / "runs" / run / "events.jsonl") if e["type"] == "run_started"}
    assert len(threads) == 1
    assert scing(["study", "--plan", str(plan), "--workspace", str(workspace), "--seeds", "2", "--plain",
                  "--launcher", "local", "--parallel", "2", "--threads-per-run", str(threads.pop()),
                  "--device", "cpu"]) == 0
    parallel = workspace / "studies" / "tiny"
    for run in ("clipreid-s0", "clipreid-s1", "scing-s0", "scing-s1"):
        assert final(parallel, run) == final(sequential, run), run
        assert JobRecord.read(RunDir.at(parallel / "runs" / run)).launcher == "local"
    assert statistics(plan, parallel, 2) == statistics(plan, sequential, 2)
    assert (parallel / "study.json").is_file()


def test_a_preempted_local_job_requeues_and_ends_with_the_uninterrupted_metrics(tiny_study, tmp_path):
    _, sequential = tiny_study
    run = RunDir.at(tmp_path / "scing-s0")
    run.root.mkdir()
    shutil.copy(sequential / "runs" / "scing-s0" / "config.yaml", run.config)   # the same run, from scratch

    def preempt_in_stage2():
        wait_until(lambda: any(e["type"] == "stage_started" and e["stage"] == 2 for e in read_events(run.events)),
                   600, "stage 2")
        holder = wait_until(lambda: lock_holder(run.root), 60, "the training process")
        os.kill(int(holder["pid"]), signal.SIGUSR2)   # what Slurm sends 90 s before the time limit

    import threading

    poker = threading.Thread(target=preempt_in_stage2, daemon=True)
    poker.start()
    submit([run], LauncherSettings(kind="local"), tmp_path / "submitit")
    poker.join(5)
    ends = [(e["status"], e.get("reason")) for e in read_events(run.events) if e["type"] == "run_finished"]
    assert ends == [("stopped", "preempted"), ("completed", None)]
    resumed = [e["resume"] for e in read_events(run.events) if e["type"] == "run_started"]
    assert resumed == [False, True]
    expected = final(sequential, "scing-s0")["synthped"]
    got = json.loads(run.metrics.read_text())["final"]["synthped"]
    assert (got["mAP"], got["R1"]) == (expected["mAP"], expected["R1"])


@pytest.fixture
def fake_slurm(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", f"{FAKE_SLURM}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_SLURM_DIR", str(tmp_path / "slurm-state"))
    monkeypatch.setenv("FAKE_SLURM_PYTHON", sys.executable)
    return tmp_path / "slurm-state"


def test_slurm_study_submits_an_array_is_followed_and_collected(tiny_synthped, tmp_path, fake_slurm, capsys):
    plan = write_plan(tmp_path / "tiny.yaml", tiny_synthped, seeds=1)
    workspace = tmp_path / "ws"
    started = time.time()
    assert scing(["study", "--plan", str(plan), "--workspace", str(workspace), "--plain", "--device", "cpu",
                  "--launcher", "slurm", "--partition", "gpu", "--parallel", "2", "--gpus-per-run", "0",
                  "--cpus-per-run", "2", "--time-min", "30", "--sbatch=--qos=high"]) == 0
    assert time.time() - started < 60   # it returns once the array is queued, not when the runs end
    out = capsys.readouterr().out
    assert "submitted 2 runs" in out and "scing study --status" in out
    folder = workspace / "studies" / "tiny"
    record = JobRecord.read(RunDir.at(folder / "runs" / "clipreid-s0"))
    assert record.launcher == "slurm" and record.job_id.endswith("_0")
    assert (record.launcher_settings().partition, record.launcher_settings().time_min) == ("gpu", 30)  # for a resubmit
    script = submission_script(record)
    for line in ("#SBATCH --array=0-1%2", "#SBATCH --partition=gpu", "#SBATCH --signal=USR2@90",
                 "#SBATCH --cpus-per-task=2", "#SBATCH --time=30", "#SBATCH --qos=high"):
        assert line in script, line

    def all_done():
        code = scing(["study", "--status", str(folder)])
        table = capsys.readouterr().out
        return table if code == 0 else None

    table = wait_until(all_done, 600, "both runs done")
    assert table.count(" done ") == 2 and record.job_id.split("_")[0] in table
    assert scing(["study", "--status", str(folder), "--collect"]) == 0
    assert json.loads((folder / "study.json").read_text())["rows"][1]["seeds"] == [0]


def test_slurm_launcher_refuses_bad_input_before_submitting(tiny_synthped, tmp_path, fake_slurm, monkeypatch, capsys):
    plan = write_plan(tmp_path / "tiny.yaml", tiny_synthped, seeds=1)
    base = ["study", "--plan", str(plan), "--workspace", str(tmp_path / "ws"), "--plain"]
    assert scing([*base, "--launcher", "slurm", "--partition", "gpuu"]) == 2
    assert "partition 'gpuu' is not one of this cluster's: debug, gpu" in capsys.readouterr().err
    assert scing([*base, "--launcher", "local", "--parallel", "0"]) == 2
    assert "parallel = 0 must be >= 1" in capsys.readouterr().err
    monkeypatch.setenv("PATH", os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if p != str(FAKE_SLURM)))
    assert scing([*base, "--launcher", "slurm"]) == 2
    assert "needs Slurm's commands on PATH, missing: sbatch" in capsys.readouterr().err
    assert not fake_slurm.exists() and not (tmp_path / "ws").exists()   # nothing submitted, nothing written
