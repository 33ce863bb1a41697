"""Where the Training panel's curves come from: the events of the runs it draws.

A run shown that this window did not start is read (``core_client.read_run_events``) at once when its
event log is small (a few ms: its curves replace the previous run's in one paint, with no "loading"
frame) and in a worker otherwise; while it may still be written, it is followed with an
:class:`EventStream` — so a run started elsewhere (a terminal, another studio) shows live too. Runs of this window's jobs get their events
pushed in by the panel. A load that fails keeps its one-line error for the panel to show instead of
data; a load that finishes after its run stopped being shown is dropped.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from app.services import core_client
from app.services.errors import error_message
from app.services.training_process import EventStream
from app.state.curves import TrainingCurves


SMALL_EVENT_LOG_BYTES = 256 * 1024   # parsed on the GUI thread in well under 50 ms; larger logs in a worker


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
        self._tokens = 0

    def show(self, paths, owned=()) -> None:
        """Keep the curves of ``paths`` (loading those not read yet) and forget the others, except
        ``owned`` runs (this window's jobs, whose curves the panel feeds)."""
        paths, owned = [Path(p) for p in paths], {Path(p) for p in owned}
        for path in {*self.curves, *self.errors, *self.streams, *self._loading} - set(paths):
            self.forget(path, keep_curves=path in owned)
        for path in paths:
            if path not in owned and path not in self.curves and path not in self._loading and path not in self.errors:
                self.load(path)

    def load(self, path, follow: bool = False) -> None:
        """(Re)read a run's events, in a worker unless the log is small; a previous load of it is dropped.
        The run is then followed while its events say it may run, or anyway with ``follow`` (a scheduler
        holds it: it starts, or starts again, later)."""
        path = Path(path)
        self._tokens += 1
        token = self._loading[path] = self._tokens
        self.errors.pop(path, None)
        if core_client.event_log_bytes(path) <= SMALL_EVENT_LOG_BYTES:
            try:
                result = core_client.read_run_events(path)
            except Exception as error:   # the same one line a worker would give
                self._failed(path, token, error_message(error))
            else:
                self._loaded(path, token, result, follow)
            return
        self.workers.start(core_client.read_run_events, path,
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
        follower, events = result
        curves = self.curves[path] = TrainingCurves()
        curves.add(events)
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
