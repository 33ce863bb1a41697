"""The Training panel's model: the run list (:class:`app.state.runs.RunListState`: rows, selection,
ticks, statuses) plus the panel's rules — every run's status from what is known about it, what Resume
and Stop allow (and do), which runs ended outside this window, which runs the scheduler is asked about,
what an empty list or empty plots say, and why a run failed or was killed.

Qt-free and evented (psygnal). The panel gathers the facts (process liveness, its own jobs, the events
read) and hands them over with :meth:`TrainingState.set_facts`, and the scheduler's answers
(``api.run_job``, polled in a worker) with :meth:`TrainingState.set_jobs`; it subscribes and only draws:

- ``statuses_changed({path: status})`` (from the run list): the table and the selected run's title;
- ``actions_changed(RunActions)``: the Resume and Stop buttons (enabled, tooltip, what they do);
- ``runs_ended_elsewhere([path])``: runs no process of this window trains (started elsewhere, or
  submitted to a scheduler) stopped running: the workspace is rescanned for their final metrics;
- ``rows_changed``, ``selection_changed``, ``overlay_changed`` (from the run list): table and plots.

A submitted run (one with a scheduler job) is stopped through the scheduler (``api.stop_run``: a queued
job is cancelled, a running one stops after its current step) and resumed by submitting it again with
the same launcher; the scheduler is polled only while such a run is queued or running.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from psygnal import Signal

from app.state.runs import RESUMABLE_STATUSES, RunListState, RunRow
from app.state.runs_status import LIVE, JobFacts, RunFacts, derive_status

STOP_TOOLTIP = "SIGTERM: the run writes a checkpoint and ends 'stopped'; Resume continues it"
STOP_ELSEWHERE_TOOLTIP = ("this run was started outside this window: stop it there (SIGTERM / Ctrl+C also "
                          "checkpoints)")
CANCEL_TOOLTIP = "Cancel the queued job {job} (scancel); Resume submits it again"
STOP_JOB_TOOLTIP = ("Ask job {job} to stop after its current step (scancel --signal=INT): it writes a checkpoint "
                    "and ends 'stopped'; Resume submits it again")
STOPPING_TOOLTIP = "stop requested: waiting for job {job} to end"
RESUME_TOOLTIP = "Continue the selected run from checkpoints/last.pt (scing train --resume)"
RESUBMIT_TOOLTIP = "Submit the run again to {launcher} with the same launcher; it continues from checkpoints/last.pt"
NO_RUNS_TEXT = ("No runs yet. Fill in 'New run' below and press Start training "
                "(synthped · scing · quick trains in a few minutes on a laptop CPU).")


@dataclass(frozen=True)
class RunActions:
    """What the buttons allow for the selected run, and what they do."""

    resume: bool = False              # continue it from checkpoints/last.pt
    stop: bool = False                # stop what trains it (after its current step, with a checkpoint)
    stop_tooltip: str = STOP_TOOLTIP  # says where to stop a run started elsewhere
    stop_job: bool = False            # Stop asks the scheduler (api.stop_run), not this window's process
    resubmit: str = ""                # Resume submits it again to this launcher ("slurm"); "": scing train here
    resume_tooltip: str = RESUME_TOOLTIP


class TrainingState(RunListState):
    """The run list with its statuses derived from :class:`RunFacts` and the actions they allow."""

    actions_changed = Signal(object)     # RunActions, when they change
    runs_ended_elsewhere = Signal(list)  # [path]: runs not started here that stopped running

    def __init__(self) -> None:
        super().__init__()
        self.facts: dict[Path, RunFacts] = {}   # as the statuses were derived (the scheduler's answers joined)
        self._given: dict[Path, RunFacts] = {}  # as the panel gathered them
        self.actions = RunActions()
        self.jobs: dict[Path, JobFacts | None] = {}   # the scheduler's last answer per run (None: no job)
        self._awaiting: dict[Path, int] = {}   # submitted here: the first poll whose answer counts
        self._polls = 0                        # polls started
        self._stopping: dict[Path, str] = {}   # stop asked of the scheduler -> the status it was asked in
        for signal in (self.rows_changed, self.selection_changed, self.statuses_changed):
            signal.connect(self._update_actions)

    # -- facts -> statuses -> actions ----------------------------------------------------------------
    def set_facts(self, facts: dict) -> dict[Path, str]:
        """What is known about each listed run now (``{path: RunFacts}``): derives every status, emits
        ``statuses_changed`` with those that changed (returned too), then the actions and the runs
        that ended elsewhere."""
        before = {row.path: self.status_of(row) for row in self.rows}
        texts = {row.path: self.status_text(row) for row in self.rows}
        self._given = {Path(path): value for path, value in facts.items()}
        self.facts = {path: self._with_job(path, value) for path, value in self._given.items()}
        changed = self.set_live_statuses({path: derive_status(value) for path, value in self.facts.items()})
        retold = {row.path: self.status_of(row) for row in self.rows
                  if row.path not in changed and self.status_text(row) != texts.get(row.path)}
        if retold:   # the same status in another job (submitted, or submitted again)
            self.statuses_changed.emit(retold)
        self._stopping = {path: status for path, status in self._stopping.items()
                          if path in before and before[path] == status and path not in changed}
        self._update_actions()   # facts alone (a job started or ended here) can change them
        ended = [path for path, status in changed.items()
                 if before.get(path) in LIVE and status not in LIVE and not self.facts[path].started_here]
        if ended:
            self.runs_ended_elsewhere.emit(ended)
        return changed

    def _with_job(self, path: Path, facts: RunFacts) -> RunFacts:
        """The facts with the scheduler's last answer about the run, and whether it waits for its first one."""
        job = facts.job if facts.job is not None else self.jobs.get(path)
        submitting = facts.submitting or path in self._awaiting
        return dataclasses.replace(facts, job=job, submitting=submitting)

    # -- the scheduler -----------------------------------------------------------------------------------
    def runs_to_poll(self, everything: bool = False) -> list[Path]:
        """The runs to ask the scheduler about now: those just submitted from here, and those with a job
        that is queued or running (by the scheduler's last word, or by the status: a run ends a moment
        before its job does); ``everything`` (after a scan): every readable run (a job may be new)."""
        if everything:
            return [row.path for row in self.rows if not row.damaged]
        return [row.path for row in self.rows if row.path in self._awaiting or self._job_live(row)]

    def _job_live(self, row: RunRow) -> bool:
        job = self.jobs.get(row.path)
        return job is not None and (job.state in LIVE or self.status_of(row) in LIVE)

    def poll_started(self) -> int:
        """A poll of the scheduler starts: its number, for :meth:`set_jobs`."""
        self._polls += 1
        return self._polls

    def submitted(self, path) -> None:
        """This window submitted the run (the submitting process ended well): it stays "queued" until a
        poll that starts from now on answers with its job."""
        self._awaiting[Path(path)] = self._polls + 1
        self.set_facts(self._given)

    def set_jobs(self, jobs: dict, poll: int | None = None) -> dict[Path, str]:
        """The scheduler's answers of poll ``poll`` (``{path: api.RunJob or JobFacts or None}``); the
        statuses follow at once."""
        for path, job in jobs.items():
            path = Path(path)
            self.jobs[path] = job if isinstance(job, JobFacts) or job is None else JobFacts.of(job)
            if poll is not None and self._awaiting.get(path, poll + 1) <= poll:
                del self._awaiting[path]
        return self.set_facts(self._given)

    def stop_requested(self, path) -> None:
        """Stop was asked of the scheduler for the run: Stop waits until its status changes."""
        path = Path(path)
        row = self.rows[self.index_of(path)] if self.index_of(path) is not None else None
        if row is not None:
            self._stopping[path] = self.status_of(row)
            self._update_actions()

    def stop_failed(self, path) -> None:
        if self._stopping.pop(Path(path), None) is not None:
            self._update_actions()

    def job_of(self, path) -> JobFacts | None:
        return self.jobs.get(Path(path))

    def status_text(self, row: RunRow) -> str:
        """The table's status cell: the status, with the job id while a scheduler holds the run."""
        status = self.status_of(row)
        if status not in LIVE:
            return status
        job, facts = self.jobs.get(row.path), self.facts.get(row.path)
        if facts is not None and facts.submitting:
            return f"{status} · submitting…"
        return f"{status} · job {job.job_id}" if job is not None else status

    def started_here(self, path) -> bool:
        facts = self.facts.get(Path(path))
        return facts is not None and facts.started_here

    def running_elsewhere(self) -> list[Path]:
        """The runs that run (or wait in a scheduler's queue) although no process of this window trains
        them: started elsewhere, or submitted (the panel follows their events)."""
        return [row.path for row in self.rows if self.status_of(row) in LIVE and not self.started_here(row.path)]

    def _update_actions(self) -> None:
        actions = self._derive_actions()
        if actions != self.actions:
            self.actions = actions
            self.actions_changed.emit(actions)

    def _derive_actions(self) -> RunActions:
        """Stop: a process this window started (SIGTERM), or a job a scheduler holds (``api.stop_run``).
        Resume: a stopped, failed or killed run that nothing trains now (a second writer would
        interleave its epochs); a run a Slurm job trained is submitted again."""
        row = self.selected_row
        if row is None:
            return RunActions()
        facts = self.facts.get(row.path) or RunFacts(row.status)
        status = self.status_of(row)
        job = facts.job
        resubmit = job.launcher if job is not None and job.launcher == "slurm" else ""
        resume_tooltip = RESUBMIT_TOOLTIP.format(launcher=resubmit.capitalize()) if resubmit else RESUME_TOOLTIP
        if facts.submitting:
            return RunActions(stop_tooltip="being submitted…", resubmit=resubmit, resume_tooltip=resume_tooltip)
        if job is not None and status in LIVE and not facts.job_running:
            if row.path in self._stopping:
                tooltip = STOPPING_TOOLTIP
            else:
                tooltip = CANCEL_TOOLTIP if status == "queued" and job.state == "queued" else STOP_JOB_TOOLTIP
            return RunActions(stop=row.path not in self._stopping, stop_tooltip=tooltip.format(job=job.job_id),
                              stop_job=True, resubmit=resubmit, resume_tooltip=resume_tooltip)
        running_here = facts.job_running
        running_elsewhere = status in LIVE and not running_here
        return RunActions(resume=not running_here and not running_elsewhere and status in RESUMABLE_STATUSES,
                          stop=running_here,
                          stop_tooltip=STOP_ELSEWHERE_TOOLTIP if running_elsewhere else STOP_TOOLTIP,
                          resubmit=resubmit, resume_tooltip=resume_tooltip)

    # -- workspace scans -------------------------------------------------------------------------------
    def show_scan(self, workspace, rows, jobs: dict, running=(), new_workspace: bool = False) -> None:
        """A workspace scan's ``rows``, plus a row for each job of this window (``{run dir: job status}``)
        in this workspace that the scan has not listed yet. Keeps the selection and the ticks; a new
        workspace (or none selected) selects a run one of the ``running`` jobs trains, else the first."""
        workspace, rows = Path(workspace), list(rows)
        if new_workspace:
            self.jobs, self._awaiting, self._stopping = {}, {}, {}
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


def failure_message(run_name: str, log_text, what: str = "failed") -> str:
    """The error shown when a run started here fails (``what``: or could not be submitted): the last line
    of its console output (not the studio's own ``[studio]`` lines), e.g. ``run x failed: ValueError: ...``."""
    tail = "".join(log_text).strip().splitlines()
    reason = next((line for line in reversed(tail) if line.strip() and not line.startswith("[studio]")), "")
    return f"run {run_name} {what}: {reason}" if reason else f"run {run_name} {what}"


def killed_message(run_name: str, how: str) -> str:
    """The error shown when a signal ended a run started here (``how``: 'killed by SIGKILL'): the signal is
    the reason, not the last line the run printed before it."""
    return f"run {run_name} was {how or 'killed'} before it finished; Resume continues it from its last checkpoint"
