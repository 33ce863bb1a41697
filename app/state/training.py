"""The Training panel's model: the run list (:class:`app.state.runs.RunListState`: rows, selection,
ticks, statuses) plus the panel's rules — every run's status from what is known about it, what Resume
and Stop allow, which runs ended outside this window, what an empty list or empty plots say, and why a
run failed.

Qt-free and evented (psygnal). The panel gathers the facts (process liveness, its own jobs, the events
read) and hands them over with :meth:`TrainingState.set_facts`; it subscribes and only draws:

- ``statuses_changed({path: status})`` (from the run list): the table and the selected run's title;
- ``actions_changed(RunActions)``: the Resume and Stop buttons (enabled, tooltip);
- ``runs_ended_elsewhere([path])``: runs started outside this window stopped running: the workspace
  is rescanned for their final metrics;
- ``rows_changed``, ``selection_changed``, ``overlay_changed`` (from the run list): table and plots.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from psygnal import Signal

from app.state.runs import RESUMABLE_STATUSES, RunListState, RunRow
from app.state.runs_status import RunFacts, derive_status

STOP_TOOLTIP = "SIGTERM: the run writes a checkpoint and ends 'stopped'; Resume continues it"
STOP_ELSEWHERE_TOOLTIP = ("this run was started outside this window: stop it there (SIGTERM / Ctrl+C also "
                          "checkpoints)")
NO_RUNS_TEXT = ("No runs yet. Fill in 'New run' below and press Start training "
                "(synthped · scing · quick trains in a few minutes on a laptop CPU).")


@dataclass(frozen=True)
class RunActions:
    """What the buttons allow for the selected run."""

    resume: bool = False              # continue it from checkpoints/last.pt
    stop: bool = False                # SIGTERM the process this window started for it
    stop_tooltip: str = STOP_TOOLTIP  # says where to stop a run started elsewhere


class TrainingState(RunListState):
    """The run list with its statuses derived from :class:`RunFacts` and the actions they allow."""

    actions_changed = Signal(object)     # RunActions, when they change
    runs_ended_elsewhere = Signal(list)  # [path]: runs not started here that stopped running

    def __init__(self) -> None:
        super().__init__()
        self.facts: dict[Path, RunFacts] = {}
        self.actions = RunActions()
        for signal in (self.rows_changed, self.selection_changed, self.statuses_changed):
            signal.connect(self._update_actions)

    # -- facts -> statuses -> actions ----------------------------------------------------------------
    def set_facts(self, facts: dict) -> dict[Path, str]:
        """What is known about each listed run now (``{path: RunFacts}``): derives every status, emits
        ``statuses_changed`` with those that changed (returned too), then the actions and the runs
        that ended elsewhere."""
        self.facts = {Path(path): value for path, value in facts.items()}
        before = {row.path: self.status_of(row) for row in self.rows}
        changed = self.set_live_statuses({path: derive_status(value) for path, value in self.facts.items()})
        self._update_actions()   # facts alone (a job started or ended here) can change them
        ended = [path for path, status in changed.items()
                 if before.get(path) == "running" and status != "running" and not self.facts[path].started_here]
        if ended:
            self.runs_ended_elsewhere.emit(ended)
        return changed

    def started_here(self, path) -> bool:
        facts = self.facts.get(Path(path))
        return facts is not None and facts.started_here

    def running_elsewhere(self) -> list[Path]:
        """The runs that run now although this window did not start them (the panel follows their events)."""
        return [row.path for row in self.rows if self.status_of(row) == "running" and not self.started_here(row.path)]

    def _update_actions(self) -> None:
        actions = self._derive_actions()
        if actions != self.actions:
            self.actions = actions
            self.actions_changed.emit(actions)

    def _derive_actions(self) -> RunActions:
        """Stop: only a process this window started. Resume: a stopped, failed or killed run that
        nothing trains now (a second writer would interleave its epochs)."""
        row = self.selected_row
        if row is None:
            return RunActions()
        facts = self.facts.get(row.path)
        running_here = facts is not None and facts.job_running
        status = self.status_of(row)
        running_elsewhere = status == "running" and not running_here
        return RunActions(resume=not running_here and not running_elsewhere and status in RESUMABLE_STATUSES,
                          stop=running_here,
                          stop_tooltip=STOP_ELSEWHERE_TOOLTIP if running_elsewhere else STOP_TOOLTIP)

    # -- workspace scans -------------------------------------------------------------------------------
    def show_scan(self, workspace, rows, jobs: dict, running=(), new_workspace: bool = False) -> None:
        """A workspace scan's ``rows``, plus a row for each job of this window (``{run dir: job status}``)
        in this workspace that the scan has not listed yet. Keeps the selection and the ticks; a new
        workspace (or none selected) selects a run one of the ``running`` jobs trains, else the first."""
        workspace, rows = Path(workspace), list(rows)
        listed = {row.path for row in rows}
        rows += [RunRow(path.name, path, "", "", status) for path, status in jobs.items()
                 if path not in listed and path.parent.parent == workspace]
        preferred = next((Path(path) for path in running if Path(path) in {row.path for row in rows}), None)
        self.set_rows(rows, select=preferred or (rows[0].path if rows else None), reselect=new_workspace)

    @property
    def empty_text(self) -> str:
        """What the list says when the workspace has no runs ("" otherwise)."""
        return "" if self.rows else NO_RUNS_TEXT

    # -- what the plots say where nothing is drawn -------------------------------------------------------
    def plot_placeholder(self, errors: dict, loading) -> str:
        """Why nothing is drawn: no selection, a damaged run, events that could not be read (``errors``:
        ``{path: message}``), events still loading (``loading(path)``), or no events yet."""
        plotted = [path for path, _ in self.plotted()]
        row = self.selected_row
        if not plotted:
            return "damaged run: nothing to draw" if row is not None and row.damaged else "select a run"
        failed = [f"{path.name}: {errors[path]}" for path in plotted if path in errors]
        if failed:
            return "could not read the events — " + " · ".join(failed)
        if any(loading(path) for path in plotted):
            return "loading events…"
        return "no step or eval events yet"


def failure_message(run_name: str, log_text) -> str:
    """The error shown when a run started here fails: the last line of its console output (not the
    studio's own ``[studio]`` lines), e.g. ``run x failed: ValueError: ...``."""
    tail = "".join(log_text).strip().splitlines()
    reason = next((line for line in reversed(tail) if line.strip() and not line.startswith("[studio]")), "")
    return f"run {run_name} failed: {reason}" if reason else f"run {run_name} failed"
