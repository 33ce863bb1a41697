"""A run's lock names a process that ended but is not reaped yet (a zombie): nobody trains the run."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

from scing_core.runs.layout import RunDir
from scing_core.runs.lock import lock_holder, lock_state


def _wait_until_zombie(pid: int, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
        if state == "Z":
            return
        time.sleep(0.05)
    raise AssertionError(f"process {pid} did not become a zombie")


def test_a_zombie_holder_is_not_alive(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    child = subprocess.Popen([sys.executable, "-c", "pass"])   # exits at once; not reaped until wait()
    try:
        _wait_until_zombie(child.pid)
        start = open(f"/proc/{child.pid}/stat").read().rsplit(")", 1)[1].split()[19]
        RunDir(run_dir).lock.write_text(json.dumps({"pid": child.pid, "host": socket.gethostname(),
                                                    "since": time.time(), "start_ticks": start}))
        assert lock_holder(run_dir) is None
        assert lock_state(run_dir) == "stale"
    finally:
        child.wait()


def test_a_live_holder_is_alive(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    RunDir(run_dir).lock.write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                                "since": time.time()}))
    assert lock_holder(run_dir)["pid"] == os.getpid()
    assert lock_state(run_dir) == "alive"
