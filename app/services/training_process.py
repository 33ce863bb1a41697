"""Training (and the demo build) always run in a separate process (docs/design.md, Boundaries 2).

- :class:`CommandProcess` wraps a ``QProcess``: start an argv, stream its merged stdout/stderr as
  text, ``stop()`` sends SIGTERM (``QProcess.terminate``) so ``scing train`` checkpoints and ends
  "stopped".
- :class:`EventStream` follows ``RUN_DIR/events.jsonl`` with ``api.EventFollower`` on a ``QTimer``;
  it works for runs this studio did not start (reattach), since it only reads the file. The file is
  read in a worker (a tick while a read is in flight is folded into it), and the events of a tick
  arrive as one list: at most one ``eventsArrived`` (one redraw) per interval, ≤ 5 Hz.
- :class:`TrainingJob` is both for one run directory, and reports the final status from the events,
  else from how the process ended: a signal that ended it (SIGKILL, the OOM killer) makes the run
  "killed", whatever its last log line says; a job that ``submits`` (``scing train --launcher slurm``)
  only submits the run and ends within seconds: "submitted" or "failed" (the run itself is then
  followed like a run started elsewhere).

How a process ended is its exit code, or minus the signal that ended it (``subprocess``'s convention:
-9 for SIGKILL). It is known as soon as the process has ended, before QProcess has reaped it and
reported the end (:func:`ended_child_exit_code`), so a killed run never reads "running" meanwhile.

Nothing here blocks: QProcess is asynchronous (its output is handed on at most every
``OUTPUT_FLUSH_MS``, as one text) and each poll reads only the bytes appended since the previous one.
"""

from __future__ import annotations

import os
import signal
import threading
from collections import deque
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal

from scing_core import api

from app.services.workers import WorkerPool

POLL_INTERVAL_MS = 300     # ≥ 200 ms: at most 5 event deliveries (redraws) a second
OUTPUT_FLUSH_MS = 200      # a chatty process's output reaches the log view at most 5 times a second
LOG_CHUNKS = 4000          # output chunks kept per job for when its run is selected again


def ended_child_exit_code(pid: int) -> int | None:
    """How this process's child ``pid`` ended — its exit code, or minus the signal that ended it — once it
    has ended; None while it runs (or where the system cannot tell). The child is left unreaped
    (``waitid`` with WNOWAIT) for QProcess, which reaps it and reports the end on a later event-loop turn."""
    if pid <= 0 or not hasattr(os, "waitid"):
        return None
    try:
        ended = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:   # reaped meanwhile: QProcess reports how it ended
        return None
    if ended is None:
        return None
    return ended.si_status if ended.si_code == os.CLD_EXITED else -ended.si_status


def describe_exit(exit_code: int) -> str:
    """'exit code 1', or 'killed by SIGKILL' for minus a signal."""
    if exit_code >= 0:
        return f"exit code {exit_code}"
    try:
        return f"killed by {signal.Signals(-exit_code).name}"
    except ValueError:
        return f"killed by signal {-exit_code}"


class CommandProcess(QObject):
    """One child process with live output; ``finished`` carries the exit code, or minus the signal that
    ended the process (-9: SIGKILL)."""

    output = Signal(str)
    started = Signal()
    finished = Signal(int)
    failedToStart = Signal(str)

    def __init__(self, argv: list[str], parent: QObject | None = None, workdir=None) -> None:
        super().__init__(parent)
        self.argv = list(argv)
        self.process = QProcess(self)
        self.process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        environment = QProcessEnvironment.systemEnvironment()
        environment.insert("PYTHONUNBUFFERED", "1")   # lines reach the log as they are printed
        self.process.setProcessEnvironment(environment)
        if workdir is not None:
            self.process.setWorkingDirectory(str(workdir))
        self.process.readyReadStandardOutput.connect(self._read_output)
        self.process.started.connect(self.started)
        self.process.finished.connect(self._on_finished)
        self.process.errorOccurred.connect(self._on_error)
        self._stop_requested = False
        self._exit_code: int | None = None   # as reported by QProcess
        self._unsent: list[str] = []          # output read but not handed on yet
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(OUTPUT_FLUSH_MS)
        self._flush_timer.timeout.connect(self.flush_output)

    def start(self) -> None:
        self.output.emit("$ " + " ".join(self.argv) + "\n")
        self.process.start(self.argv[0], self.argv[1:])

    def stop(self) -> None:
        """SIGTERM: ``scing train`` saves ``checkpoints/last.pt`` and ends with status "stopped"."""
        if self.is_running():
            self._stop_requested = True
            self.flush_output()
            self.output.emit("\n[studio] stop requested (SIGTERM); the run checkpoints and ends 'stopped'…\n")
            self.process.terminate()

    @property
    def stop_requested(self) -> bool:
        return self._stop_requested

    def is_running(self) -> bool:
        """QProcess's word: a process that ended is running until QProcess reports its end (see exit_code)."""
        return self.process.state() != QProcess.ProcessState.NotRunning

    def exit_code(self) -> int | None:
        """How the process ended (exit code, or minus the signal), as soon as it has ended — also before
        QProcess reports it; None while it runs, and for a process that never started."""
        if self._exit_code is not None or not self.is_running():
            return self._exit_code
        return ended_child_exit_code(int(self.process.processId()))

    def _read_output(self) -> None:
        data = bytes(self.process.readAllStandardOutput())
        if data:
            self._unsent.append(data.decode("utf-8", errors="replace"))
            if not self._flush_timer.isActive():
                self._flush_timer.start()

    def flush_output(self) -> None:
        """Hand on the output read since the last flush, as one text."""
        self._flush_timer.stop()
        if self._unsent:
            text, self._unsent = "".join(self._unsent), []
            self.output.emit(text)

    def _on_finished(self, exit_code: int, exit_status) -> None:
        self._read_output()
        self.flush_output()
        crashed = exit_status == QProcess.ExitStatus.CrashExit   # on Unix, exit_code is then the signal
        self._exit_code = -(int(exit_code) or 1) if crashed else int(exit_code)
        self.output.emit(f"\n[studio] process ended ({describe_exit(self._exit_code)})\n")
        self.finished.emit(self._exit_code)

    def _on_error(self, error) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self.flush_output()
            message = f"could not start {self.argv[0]}: {self.process.errorString()}"
            self.output.emit(f"[studio] {message}\n")
            self.failedToStart.emit(message)


class EventStream(QObject):
    """Polls a run's events.jsonl in a worker and emits the new events (a list of dicts) on the GUI thread."""

    eventsArrived = Signal(list)

    def __init__(self, run_dir, parent: QObject | None = None, interval_ms: int = POLL_INTERVAL_MS) -> None:
        super().__init__(parent)
        self.run_dir = Path(run_dir)
        self.follower = api.follow_events(self.run_dir)
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.poll_in_worker)
        self.workers = WorkerPool(self)
        self._lock = threading.Lock()   # one reader of the follower at a time; guards _pending
        self._pending: list[dict] = []  # read by a worker, not delivered yet
        self._reading = False

    def start(self) -> None:
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    @property
    def active(self) -> bool:
        return self.timer.isActive()

    def poll_in_worker(self) -> None:
        """A timer tick: read what was appended in a worker; a tick while a read is in flight is skipped
        (its lines come with the next read)."""
        if self._reading:
            return
        self._reading = True
        self.workers.start(self._read, on_finished=self._deliver)

    def _read(self) -> None:   # on a pool thread
        with self._lock:
            self._pending.extend(self.follower.poll())

    def _deliver(self) -> None:
        self._reading = False
        if self.timer.isActive():   # a stopped stream hands on nothing more (poll() still does)
            self._emit(self._take())

    def _take(self) -> list[dict]:
        with self._lock:
            events, self._pending = self._pending, []
        return events

    def _emit(self, events: list[dict]) -> None:
        if events:
            self.eventsArrived.emit(events)

    def poll(self) -> list[dict]:
        """Read now, on this thread (the last events once a process ended): what a worker read and did not
        deliver yet comes first, so events arrive in order."""
        with self._lock:
            events, self._pending = self._pending + self.follower.poll(), []
        self._emit(events)
        return events


class TrainingJob(QObject):
    """A ``scing train`` process for one run directory plus the follower of its events.

    ``finished`` carries the run's final status: the ``run_finished`` event's status, else how the
    process ended (:meth:`status_on_exit`): "killed" by a signal, "stopped" after Stop, "completed" or
    "failed" by its exit code. A job that ``submits`` the run to a scheduler ends "submitted" (or "failed":
    nothing was submitted) and does not follow the events.
    """

    output = Signal(str)
    eventsArrived = Signal(list)
    finished = Signal(str)

    def __init__(self, run_dir, argv: list[str], parent: QObject | None = None, submits: bool = False) -> None:
        super().__init__(parent)
        self.run_dir = Path(run_dir)
        self.submits = submits
        self.process = CommandProcess(argv, self)
        self.events = EventStream(self.run_dir, self)
        self.log_text: deque[str] = deque(maxlen=LOG_CHUNKS)   # recent output (the panel shows the selected run's)
        self.status = "starting"
        self.process.output.connect(self._on_output)
        self.process.finished.connect(self._on_finished)
        self.process.failedToStart.connect(lambda message: self._finish("failed"))
        self.events.eventsArrived.connect(self._on_events)

    def start(self) -> None:
        self.status = "running"
        if not self.submits:
            self.events.start()
        self.process.start()

    def stop(self) -> None:
        self.process.stop()

    def is_running(self) -> bool:
        """Its process runs: not once it has ended, even before QProcess reports the end."""
        return self.process.is_running() and self.process.exit_code() is None

    def current_status(self) -> str:
        """The status as this job knows it now: once its process has ended — even before QProcess reports
        the end and ``finished`` follows — how it ended (:meth:`status_on_exit`)."""
        exit_code = self.process.exit_code()
        if self.status in ("starting", "running") and not self.submits and exit_code is not None:
            return self.status_on_exit(exit_code)
        return self.status

    def status_on_exit(self, exit_code: int) -> str:
        """The status of a run whose process ended with ``exit_code`` without a ``run_finished`` event: a
        signal killed it (the SIGTERM of Stop aside), Stop stopped it, else its exit code says."""
        stopped_by_us = self.process.stop_requested and exit_code == -signal.SIGTERM
        if exit_code < 0 and not stopped_by_us:
            return "killed"
        if self.process.stop_requested:
            return "stopped"
        return "completed" if exit_code == 0 else "failed"

    def exit_description(self) -> str:
        """How the process ended, in words ('killed by SIGKILL', 'exit code 1'); "" while it runs."""
        exit_code = self.process.exit_code()
        return describe_exit(exit_code) if exit_code is not None else ""

    def _on_output(self, text: str) -> None:
        self.log_text.append(text)
        self.output.emit(text)

    def _on_events(self, events: list) -> None:
        for event in events:
            if event.get("type") == "run_finished":
                self.status = str(event.get("status", "failed"))
        self.eventsArrived.emit(events)

    def _on_finished(self, exit_code: int) -> None:
        if self.submits:
            self._finish("submitted" if exit_code == 0 else "failed")
            return
        self.events.poll()          # the last events (run_finished) were flushed before the exit
        if self.status in ("running", "starting"):   # no run_finished event: judge by how it ended
            self.status = self.status_on_exit(exit_code)
        self._finish(self.status)

    def _finish(self, status: str) -> None:
        self.status = status
        self.events.stop()
        self.finished.emit(status)

