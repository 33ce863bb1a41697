"""One writer per run directory: the run's lock file (``RUN_DIR/train.lock``) holds the training process's pid.

``scing train`` (and the studio's Resume, through it) takes the lock before touching a run and
drops it when it ends; a second writer — another ``scing train --resume``, a second studio — gets one
RunDirError naming the process that trains it, instead of interleaving epochs in one events.jsonl.
A lock whose process is gone (SIGKILL, a crash, a reboot) is stale and taken over. The pid's start
time (from /proc) is stored too, so a recycled pid is not mistaken for the trainer.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from pathlib import Path

from scing_core.runs.layout import RunDir
from scing_core.errors import RunDirError

log = logging.getLogger(__name__)


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of ``/proc/PID/stat`` after the command name (state first), None where /proc is missing."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), None where /proc is missing."""
    fields = _stat_fields(pid)
    return fields[19] if fields and len(fields) > 19 else None


def _exited(pid: int) -> bool:
    """True for a zombie (it ended, its parent has not reaped it yet) or a dying process: no trainer."""
    fields = _stat_fields(pid)
    return bool(fields) and fields[0] in ("Z", "X", "x")


def _scheduler_job() -> str | None:
    """This process's Slurm job (a requeued job keeps its id, and may start on another node)."""
    return os.environ.get("SLURM_JOB_ID")


def _alive(holder: dict) -> bool:
    if holder.get("job") and holder.get("job") == _scheduler_job():
        return False   # this very job held it before it was preempted and requeued: its process is gone
    if holder.get("host") != socket.gethostname():
        return True  # another machine's process: it cannot be checked from here
    try:
        pid = int(holder.get("pid", -1))
    except (TypeError, ValueError):
        return False  # a lock holding garbage names no process
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    if _exited(pid):
        return False
    started = _start_time(pid)
    return started is None or holder.get("start_ticks") in (None, started)


def lock_holder(run_dir) -> dict | None:
    """``{pid, host, since, job}`` of the live process training ``run_dir``, or None."""
    path = RunDir(Path(run_dir)).lock
    try:
        holder = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return holder if isinstance(holder, dict) and _alive(holder) else None


def lock_state(run_dir) -> str | None:
    """``"alive"`` (a live process trains the run), ``"stale"`` (its lock outlived its process: it was
    killed), or None (no lock: nobody trains it, or it ended cleanly)."""
    if not RunDir(Path(run_dir)).lock.exists():
        return None
    return "alive" if lock_holder(run_dir) is not None else "stale"


def describe_holder(run_dir, holder: dict) -> str:
    try:
        since = time.strftime("%Y-%m-%d %H:%M", time.localtime(float(holder.get("since", 0))))
    except (TypeError, ValueError, OverflowError):
        since = "an unknown time"
    return (f"run '{run_dir}' is being trained by process {holder.get('pid')} on {holder.get('host')} (since {since}); "
            "stop it first (Stop in the studio, or kill -TERM it) or wait for it to finish")


class RunLock:
    """Context manager: hold ``RUN_DIR/train.lock`` for this process (``enabled=False``: a no-op)."""

    def __init__(self, run_dir, enabled: bool = True) -> None:
        self.path = RunDir(Path(run_dir)).lock
        self.enabled = enabled
        self.held = False

    def __enter__(self) -> "RunLock":
        if not self.enabled:
            return self
        record = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time(),
                  "start_ticks": _start_time(os.getpid()), "job": _scheduler_job()}
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = lock_holder(self.path.parent)
                if holder is not None:
                    raise RunDirError(describe_holder(self.path.parent, holder)) from None
                log.warning("taking over the stale lock %s (its process is gone)", self.path)
                self.path.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w") as handle:
                json.dump(record, handle)
            self.held = True
            return self
        raise RunDirError(f"could not lock run '{self.path.parent}': another process keeps taking {self.path.name}")

    def __exit__(self, *exc) -> None:
        if self.held:
            self.path.unlink(missing_ok=True)
            self.held = False
