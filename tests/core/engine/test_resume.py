"""Crash safety: SIGKILL mid stage 2 then --resume gives the same metrics; SIGTERM stops cleanly."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from scing_core.config import resolve_config
from scing_core.runs.checkpoints import load_checkpoint
from scing_core.runs.events import read_events
from scing_core.engine.run import train

from tests.support import quick_overrides

pytestmark = pytest.mark.slow


def _overrides(root):
    return quick_overrides(root, "stage2.epochs=4", "eval_every=2", "log_every=1", "checkpoint_every=1")


def _start(run_dir, root, *extra):
    cmd = [sys.executable, "-m", "scing_core.cli", "train", "--run-dir", str(run_dir), "--plain", *extra]
    if "--resume" not in extra:
        cmd += ["--config", "synthped/scing/quick", *_overrides(root)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)


def _wait_for(run_dir, predicate, proc, timeout=300.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        events = read_events(run_dir / "events.jsonl")
        if any(predicate(e) for e in events):
            return events
        if proc.poll() is not None:
            pytest.fail(f"training exited early:\n{proc.stdout.read()}")
        time.sleep(0.05)
    proc.kill()
    pytest.fail("timed out waiting for the training event")


def _reference_metrics(tmp_path, root):
    run = tmp_path / "reference"
    proc = _start(run, root)
    assert proc.wait(timeout=600) == 0, proc.stdout.read()
    return json.loads((run / "metrics.json").read_text())["final"]


def test_resume_after_sigkill_in_stage2_ends_with_the_same_metrics(tiny_synthped, tmp_path):
    reference = _reference_metrics(tmp_path, tiny_synthped)
    run = tmp_path / "killed"
    proc = _start(run, tiny_synthped)
    _wait_for(run, lambda e: e["type"] == "checkpoint" and e["stage"] == 2 and e["epoch"] >= 1 and e["tag"] == "last", proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert not (run / "metrics.json").exists()
    assert load_checkpoint(run / "checkpoints" / "last.pt")["stage"] == 2
    resumed = _start(run, tiny_synthped, "--resume")
    assert resumed.wait(timeout=600) == 0, resumed.stdout.read()
    final = json.loads((run / "metrics.json").read_text())["final"]
    assert final["synthped"]["mAP"] == pytest.approx(reference["synthped"]["mAP"], abs=1e-9)
    assert final["synthped"]["R1"] == pytest.approx(reference["synthped"]["R1"], abs=1e-9)


def test_sigterm_writes_a_checkpoint_and_a_stopped_event_and_resume_finishes(tiny_synthped, tmp_path):
    run = tmp_path / "stopped"
    proc = _start(run, tiny_synthped)
    _wait_for(run, lambda e: e["type"] == "step" and e["stage"] == 2, proc)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=120) == 0
    events = read_events(run / "events.jsonl")
    assert events[-1]["type"] == "run_finished" and events[-1]["status"] == "stopped"
    state = load_checkpoint(run / "checkpoints" / "last.pt")
    assert state["stage"] == 2
    resumed = _start(run, tiny_synthped, "--resume")
    assert resumed.wait(timeout=600) == 0, resumed.stdout.read()
    events = read_events(run / "events.jsonl")
    assert events[-1]["status"] == "completed"
    assert [e["resume"] for e in events if e["type"] == "run_started"] == [False, True]


def test_resume_refuses_overrides(tiny_synthped, tmp_path):
    from scing_core.cli.train import main
    from scing_core.errors import ConfigError

    with pytest.raises(ConfigError, match="cannot be combined with --resume"):
        main(["--run-dir", str(tmp_path), "--resume", "stage1.epochs=3"])


def test_training_in_process_can_be_stopped_and_resumed(tiny_synthped, tmp_path):
    """The stop flag (what SIGTERM sets) is honoured after the current step."""
    from scing_core.engine.trainer import Hook

    class StopInStage1(Hook):
        def after_step(self, ctx, stage, epoch, step, parts):
            if stage.index == 1 and step == 0:
                ctx.stop_requested = True

    cfg = resolve_config("synthped/clipreid/quick", quick_overrides(tiny_synthped))
    run = tmp_path / "inproc"
    assert train(cfg, run, hooks=[StopInStage1()]) == {}
    state = load_checkpoint(run / "checkpoints" / "last.pt")
    assert (state["stage"], state["epoch"], state["step_in_epoch"]) == (1, 0, 1)
    metrics = train(cfg, run, resume=True)
    assert "synthped" in metrics
