"""Where the Training panel's curves come from: the events of the runs it draws.

A run shown that this window did not start is read (``core_client.read_run_events``) and its curves built
(:func:`read_curves`) at once when its event log is small (a few ms: its curves replace the previous
run's in one paint, with no "loading" frame) and in a worker otherwise — parsing thousands of events
and folding them into curves never holds the GUI thread; while it may still be written, it is followed with an
:class:`EventStream` — so a run started elsewhere (a terminal, another studio) shows live too. Runs of this window's jobs get their events
pushed in by the panel. A load that fails keeps its one-line error for the panel to show instead of
data; a load that finishes after its run stopped being shown is dropped.

The curves of the last :data:`KEEP_READ_RUNS` finished runs with a large event log no longer shown are
kept aside with the log's size when it was read: shown again while that size is unchanged, they are
drawn at once instead of read again in a worker (clicking back and forth between long runs costs no
parsing, which would compete with the GUI thread's paints for the GIL). A small log is read again.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from app.services import core_client
from app.services.errors import error_message
from app.services.training_process import EventStream
from app.state.curves import TrainingCurves


KEEP_READ_RUNS = 8   # finished runs whose curves stay at hand after they stop being shown
FOLD_CHUNK = 200   # events folded between two chances for the GUI thread to run Python
SMALL_EVENT_LOG_BYTES = 64 * 1024   # parsed on the GUI thread in well under 50 ms; larger logs in a worker


def read_curves(path) -> tuple:
    """``(follower, curves)``: a run's events read and folded into :class:`TrainingCurves` (in a worker
    for a large log: the curves are plain Python objects, handed to the GUI thread once built)."""
    follower, events = core_client.read_run_events(path)
    curves = TrainingCurves()
    for start in range(0, len(events), FOLD_CHUNK):
        curves.add(events[start:start + FOLD_CHUNK])
        time.sleep(0)   # let the GUI thread take the GIL between chunks (its paints need it too)
    return follower, curves


class CurveSources(QObject):
    """``curves`` / ``errors`` of the runs shown; ``changed(path)`` when one of them changes."""

    changed = Signal(object)
    runStarted = Signal(object)   # a run_started event arrived: its config.yaml exists now

    def __init__(self, workers, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.workers = workers
        self.curves: dict[Path, TrainingCurves] = {}
        self.errors: dict[Path, str] = {}            # run -> why its events could not be read
        self.streams: dict[Path, EventStream] = {}   # runs followed (a finished one keeps its stopped stream)
        self._loading: dict[Path, int] = {}          # run -> token of the load in flight
        self._kept: dict[Path, tuple] = {}           # run no longer shown -> (curves, event log bytes), oldest first
        self._read_bytes: dict[Path, int] = {}       # run -> its event log's size when its load started
        self._tokens = 0

    def show(self, paths, owned=()) -> None:
        """Keep the curves of ``paths`` (loading those not read yet) and forget the others, except
        ``owned`` runs (this window's jobs, whose curves the panel feeds)."""
        paths, owned = [Path(p) for p in paths], {Path(p) for p in owned}
        for path in {*self.curves, *self.errors, *self.streams, *self._loading} - set(paths):
            if path not in owned and path in self.curves and not self.following(path) and path not in self._loading:
                self._keep(path)
            self.forget(path, keep_curves=path in owned)
        for path in paths:
            if path not in owned and path not in self.curves and path not in self._loading and path not in self.errors:
                if not self._take_kept(path):
                    self.load(path)

    def _keep(self, path: Path) -> None:
        self._kept.pop(path, None)
        self._kept[path] = (self.curves[path], self._read_bytes.get(path, -1))
        while len(self._kept) > KEEP_READ_RUNS:
            del self._kept[next(iter(self._kept))]

    def _take_kept(self, path: Path) -> bool:
        """Show a kept run's curves again if its event log has not grown since (else it is read again)."""
        kept = self._kept.pop(path, None)
        if kept is None or kept[0].status in ("running", "not-started") or kept[1] <= SMALL_EVENT_LOG_BYTES \
                or core_client.event_log_bytes(path) != kept[1]:
            return False
        self.curves[path] = kept[0]
        return True

    def load(self, path, follow: bool = False) -> None:
        """(Re)read a run's events, in a worker unless the log is small; a previous load of it is dropped.
        The run is then followed while its events say it may run, or anyway with ``follow`` (a scheduler
        holds it: it starts, or starts again, later)."""
        path = Path(path)
        self._kept.pop(path, None)
        self._read_bytes[path] = core_client.event_log_bytes(path)
        self._tokens += 1
        token = self._loading[path] = self._tokens
        self.errors.pop(path, None)
        if self._read_bytes[path] <= SMALL_EVENT_LOG_BYTES:
            try:
                result = read_curves(path)
            except Exception as error:   # the same one line a worker would give
                self._failed(path, token, error_message(error))
            else:
                self._loaded(path, token, result, follow)
            return
        self.workers.start(read_curves, path,
                           on_result=lambda result: self._loaded(path, token, result, follow),
                           on_error=lambda message: self._failed(path, token, message))

    def loading(self, path) -> bool:
        return Path(path) in self._loading

    def following(self, path) -> bool:
        stream = self.streams.get(Path(path))
        return stream is not None and stream.active

    def forget(self, path, keep_curves: bool = False) -> None:
        path = Path(path)
        stream = self.streams.pop(path, None)
        if stream is not None:
            stream.stop()
            stream.deleteLater()
        self._loading.pop(path, None)
        self.errors.pop(path, None)
        if not keep_curves:
            self.curves.pop(path, None)

    def start_fresh(self, path) -> TrainingCurves:
        """Empty curves for a run this window starts (its job pushes the events)."""
        self.forget(path)
        self.curves[Path(path)] = TrainingCurves()
        return self.curves[Path(path)]

    def add_events(self, path, events: list) -> None:
        path = Path(path)
        curves = self.curves.setdefault(path, TrainingCurves())
        started_before = curves.config is not None or curves.status != "not-started"
        curves.add(events)
        if not started_before and any(e.get("type") == "run_started" for e in events):
            self.runStarted.emit(path)
        if any(e.get("type") == "run_finished" for e in events) and path in self.streams:
            self.streams[path].stop()
        self.changed.emit(path)

    def stop_all(self) -> None:
        for stream in self.streams.values():
            stream.stop()

    def _loaded(self, path: Path, token: int, result, follow: bool = False) -> None:
        if self._loading.get(path) != token:
            return   # no longer shown, or read again meanwhile
        del self._loading[path]
        follower, curves = result
        self.curves[path] = curves
        if follow or curves.status in ("running", "not-started"):   # maybe running elsewhere: keep reading the file
            self._follow(path, follower)
        self.changed.emit(path)

    def _failed(self, path: Path, token: int, message: str) -> None:
        if self._loading.get(path) != token:
            return
        del self._loading[path]
        self.curves.pop(path, None)
        self.errors[path] = message
        self.changed.emit(path)

    def _follow(self, path: Path, follower) -> None:
        old = self.streams.pop(path, None)
        if old is not None:
            old.stop()
            old.deleteLater()
        stream = self.streams[path] = EventStream(path, self)
        stream.follower = follower
        stream.eventsArrived.connect(lambda events, p=path: self.add_events(p, events))
        stream.start()
