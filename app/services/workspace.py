"""The open workspace: scans its run directories in a worker and writes what it holds into a
:class:`app.state.workspace.WorkspaceState`, which emits ``workspace_changed`` to the panels and the window."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from app.services import core_client
from app.services.workers import WorkerPool
from app.state.workspace import WorkspaceState, WorkspaceStatus, describe_workspace


class WorkspaceService(QObject):
    """Scans on :meth:`open` / :meth:`refresh`; each result goes to ``state`` (which emits
    ``workspace_changed``); ``failed(message)`` when a scan fails."""

    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.path: Path | None = None   # the workspace opened (its scan may still run)
        self.state = WorkspaceState()
        self.workers = WorkerPool(self)
        self._token = 0
        self.scans_done = 0

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
        self.scans_done += 1
        self.state.set_scan(describe_workspace(path, len(rows), is_default), rows)

    def _failed(self, message: str) -> None:
        self.scans_done += 1
        self.failed.emit(f"cannot read the workspace {self.path}: {message}")
