"""`scing train --nproc 2` runs DDP on two CPU processes (gloo) to completion."""

import json
import subprocess
import sys

import pytest

from scing_core.runs.events import read_events

from tests.support import quick_overrides

pytestmark = pytest.mark.slow


def test_two_process_ddp_training_completes_and_only_rank0_writes(tiny_synthped, tmp_path):
    run = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "scing_core.cli", "train", "--config", "synthped/scing/quick", "--run-dir", str(run),
           "--nproc", "2", "--plain", *quick_overrides(tiny_synthped, "stage2.epochs=2")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    events = read_events(run / "events.jsonl")
    assert events[-1]["type"] == "run_finished" and events[-1]["status"] == "completed"
    assert [e["world_size"] for e in events if e["type"] == "run_started"] == [2]
    assert sum(e["type"] == "run_started" for e in events) == 1  # rank 1 wrote nothing
    assert "synthped" in json.loads((run / "metrics.json").read_text())["final"]
