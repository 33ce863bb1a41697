"""The workspace the window shows: what it says about it (demo missing, folder missing, empty, ready)
and :class:`WorkspaceState`, which emits after every scan so that the panels and the window redraw.

The runs it counts are those a scan listed plus those this window started there: a run started here
counts from the moment it exists, before its config.yaml lets a scan list it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from psygnal import Signal

READY, EMPTY, MISSING, MISSING_DEMO, NOT_A_FOLDER = "ready", "empty", "missing", "missing-demo", "not-a-folder"


@dataclass(frozen=True)
class WorkspaceStatus:
    path: Path
    kind: str
    num_runs: int

    @property
    def shows_setup(self) -> bool:
        """True when the window shows the setup page (build demo / open another) instead of the panels."""
        return self.kind in (MISSING, MISSING_DEMO, NOT_A_FOLDER)

    @property
    def can_build_demo(self) -> bool:
        return self.kind != NOT_A_FOLDER

    def with_runs(self, num_runs: int) -> "WorkspaceStatus":
        """The same workspace holding ``num_runs`` runs (an empty one becomes ready); a workspace the
        window cannot show runs of (missing, not a folder) stays as it is."""
        if num_runs == self.num_runs or self.kind not in (READY, EMPTY):
            return self
        return dataclasses.replace(self, kind=READY if num_runs else EMPTY, num_runs=num_runs)

    def headline(self) -> str:
        if self.kind == MISSING_DEMO:
            return "The demo workspace has not been built yet"
        if self.kind == MISSING:
            return "This workspace folder does not exist"
        if self.kind == NOT_A_FOLDER:
            return "This workspace is a file, not a folder"
        if self.kind == EMPTY:
            return "No runs in this workspace yet"
        return f"{self.num_runs} run{'s' if self.num_runs != 1 else ''}"

    def explanation(self) -> str:
        if self.kind == MISSING_DEMO:
            return (f"SCING Studio opens on the demo workspace at {self.path}. Building it trains CLIP-ReID, "
                    "CoCoOp and SCING on SynthPed, a procedural pedestrian dataset, on this CPU "
                    "(quick: about a minute; full: a few minutes). Or open a folder that holds run directories.")
        if self.kind == MISSING:
            return (f"{self.path} does not exist. Build the demo workspace there, create it as an empty "
                    "workspace to launch your own runs, or open another folder.")
        if self.kind == NOT_A_FOLDER:
            return (f"{self.path} is a file. A workspace is a folder whose runs/*/ (or */) are run directories: "
                    "open another folder (File ▸ Open workspace…), or the demo workspace (File ▸ Open demo workspace).")
        if self.kind == EMPTY:
            return "Start a run with 'New run' in the Training tab, or open a folder whose runs/*/ hold run directories."
        return ""


def describe_workspace(path, num_runs: int, is_default_demo: bool) -> WorkspaceStatus:
    folder = Path(path).expanduser()
    if not folder.exists():
        return WorkspaceStatus(folder, MISSING_DEMO if is_default_demo else MISSING, 0)
    if not folder.is_dir():
        return WorkspaceStatus(folder, NOT_A_FOLDER, 0)
    if num_runs == 0 and is_default_demo:
        return WorkspaceStatus(folder, MISSING_DEMO, 0)
    return WorkspaceStatus(folder, READY if num_runs else EMPTY, num_runs)


class WorkspaceState:
    """The open workspace as of its last scan: ``status`` (a :class:`WorkspaceStatus`) and ``rows`` (every
    run, damaged ones included). ``app.services.workspace.WorkspaceService`` scans and calls
    :meth:`set_scan`; every panel and then the window subscribe to ``workspace_changed(path, rows)``,
    emitted after each scan (of the same workspace or another), even when nothing changed on disk.
    ``status_changed(status)`` comes first after each scan, and whenever :meth:`add_run` counts a run
    started here (the status bar)."""

    workspace_changed = Signal(object, list)
    status_changed = Signal(object)

    def __init__(self) -> None:
        self.status: WorkspaceStatus | None = None
        self.rows: list = []
        self.started_here: set[Path] = set()   # runs this window started in the workspace, listed or not

    @property
    def path(self) -> Path | None:
        return self.status.path if self.status is not None else None

    def set_scan(self, status: WorkspaceStatus, rows) -> None:
        if status.path != self.path:
            self.started_here = set()
        self.rows = list(rows)
        self.status = status.with_runs(self._count())
        self.status_changed.emit(self.status)
        self.workspace_changed.emit(status.path, self.rows)

    def add_run(self, run_dir) -> None:
        """This window started a run at ``run_dir`` (``WORKSPACE/runs/NAME``): it counts at once."""
        run_dir = Path(run_dir)
        if self.status is None or run_dir.parent.parent != self.status.path or run_dir in self.started_here:
            return
        self.started_here.add(run_dir)
        status = self.status.with_runs(self._count())
        if status != self.status:
            self.status = status
            self.status_changed.emit(status)

    def _count(self) -> int:
        return len({Path(row.path) for row in self.rows} | self.started_here)
