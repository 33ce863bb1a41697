"""The open workspace: scans its run directories in a worker and writes what it holds into a
:class:`app.state.workspace.WorkspaceState`, which emits ``workspace_changed``; the service hands each
scan to the panels and then the window one per event-loop turn (:meth:`WorkspaceService.deliver_in_turns`)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from app.services import core_client
from app.services.workers import WorkerPool
from app.state.workspace import WorkspaceState, WorkspaceStatus, describe_workspace


TURN_MS = 1   # a real timer (not a 0 ms posted call): pending input, paints and timers run between two turns


class WorkspaceService(QObject):
    """Scans on :meth:`open` / :meth:`refresh`; each result goes to ``state`` (which emits
    ``workspace_changed``); ``failed(message)`` when a scan fails. ``scans_done`` counts the scans
    every subscriber of :meth:`deliver_in_turns` has received (and the failed ones)."""

    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.path: Path | None = None   # the workspace opened (its scan may still run)
        self.state = WorkspaceState()
        self.workers = WorkerPool(self)
        self._token = 0
        self.scans_done = 0
        self._slots: list = []
        self._delivery = 0          # the scan being handed out (a newer one restarts from the first slot)
        self.delivering = False
        self.state.workspace_changed.connect(self._deliver)

    @property
    def status(self) -> WorkspaceStatus | None:
        return self.state.status

    @property
    def rows(self) -> list:
        return self.state.rows

    def open(self, path) -> None:
        self.path = Path(path).expanduser().resolve()
        self.refresh()

    def refresh(self) -> None:
        if self.path is None:
            return
        self._token += 1
        token, path = self._token, self.path
        self.workers.start(core_client.scan_runs, path, on_result=lambda rows: self._done(token, path, rows),
                           on_error=self._failed)

    def _done(self, token: int, path: Path, rows: list) -> None:
        if token != self._token:
            return   # a newer scan (or another workspace) superseded this one
        is_default = path == core_client.default_workspace().expanduser().resolve()
        self.state.set_scan(describe_workspace(path, len(rows), is_default), rows)

    def add_run(self, run_dir) -> None:
        """A run started in this window: the workspace counts it at once (``state.status_changed``)."""
        self.state.add_run(run_dir)

    def deliver_in_turns(self, slots) -> None:
        """After each scan call ``slot(path, rows)`` for every slot, in order, one per event-loop turn: a
        workspace switch costs each panel tens of ms (tables, plots), and in one go they would hold the
        GUI thread for hundreds. A newer scan arriving meanwhile restarts from the first slot."""
        self._slots = list(slots)

    def _deliver(self, path: Path, rows: list) -> None:
        self._delivery += 1
        self.delivering = True
        self._deliver_from(self._delivery, 0, path, rows)

    def _deliver_from(self, delivery: int, index: int, path: Path, rows: list) -> None:
        if delivery != self._delivery:
            return   # superseded by a newer scan
        if index < len(self._slots):
            self._slots[index](path, rows)
        if index + 1 < len(self._slots):
            QTimer.singleShot(TURN_MS, self, lambda: self._deliver_from(delivery, index + 1, path, rows))
            return
        self.delivering = False
        self.scans_done += 1

    def _failed(self, message: str) -> None:
        self.scans_done += 1
        self.failed.emit(f"cannot read the workspace {self.path}: {message}")
