"""The one place a run's status is decided for the Training panel: process liveness + events.

The panel gathers :class:`RunFacts` for every listed run on a timer (and whenever events arrive or a
job ends) and hands them to :class:`app.state.training.TrainingState`, which applies
:func:`derive_status` and emits what changed: the table, the title and the buttons agree.

Liveness comes first: a process this window started, or any live process holding the run's
``train.lock``, means "running". Without one, the events decide: a ``run_finished`` status, else how
our own process ended (ended by a signal: "killed"; known as soon as it ended, before it is reaped),
else "killed" when the lock was left behind by a process that is gone (SIGKILL, OOM, reboot). A run
without any lock (written before locks existed, or by hand) counts as running while its last event is
recent, as the core cannot tell ("running-or-killed") otherwise.

A run submitted to a scheduler (it has a job: ``api.run_job``) takes its state from the scheduler, never
from its files (:func:`scheduled_status`): "queued" while the scheduler holds the job (and while this
window submits it), "running" while the job runs (or once its events start, before the next poll says
so); once the job ended, its events say how (completed, stopped, failed); a job the scheduler ended
without a word from the run was "killed" (cancelled, out of time, a node that failed) or "failed".
"""

from __future__ import annotations

from dataclasses import dataclass

FINISHED = ("completed", "stopped", "failed")
LIVE = ("queued", "running")   # a scheduler holds or runs it: polled, followed, Stop asks the scheduler
EXTERNAL_LIVE_SECONDS = 90   # a run without a lock file counts as running while its last event is this recent
KILLED_BY_SCHEDULER = ("CANCELLED", "TIMEOUT", "NODE_FAIL", "PREEMPTED", "OUT_OF_MEMORY", "BOOT_FAIL", "DEADLINE")


@dataclass(frozen=True)
class JobFacts:
    """The scheduler job behind a run (``api.RunJob``): its launcher (slurm, local), job id, state
    (queued | running | ended | unknown), the scheduler's own word (PENDING, RUNNING, TIMEOUT ...) and node."""

    launcher: str
    job_id: str
    state: str
    raw: str = ""
    node: str = ""

    @classmethod
    def of(cls, job) -> "JobFacts | None":
        """From an ``api.RunJob`` (anything with the same attributes); None stays None."""
        if job is None:
            return None
        return cls(str(job.launcher), str(job.job_id), str(job.state), str(job.raw or ""), str(job.node or ""))

    def describe(self) -> str:
        """'Slurm job 1042 · RUNNING on node07' (the details box)."""
        where = f" on {self.node}" if self.node and self.state == "running" else ""
        word = f" · {self.raw}" if self.raw else ""
        return f"{self.launcher.capitalize()} job {self.job_id}{word}{where}"


@dataclass(frozen=True)
class RunFacts:
    """What is known about one run at one moment."""

    persisted: str                       # the workspace scan's status (api.RunSummary.status)
    events: str | None = None            # TrainingCurves.status when its events were read since, else None
    last_event_age: float | None = None  # seconds since its last event, None when unknown
    job_running: bool = False            # a process started in this window trains it now
    job_ended: str | None = None         # how this window's process for it ended (its final status)
    writer: bool = False                 # a live process holds RUN_DIR/train.lock
    lock_left: bool = False              # train.lock exists although no live process holds it
    started_here: bool = False           # this window started a process for it (running or ended)
    job: JobFacts | None = None          # the scheduler's job for it (a submitted run), as last polled
    submitting: bool = False             # this window submits it now (or waits for the scheduler's first word)


def derive_status(facts: RunFacts) -> str:
    """completed | stopped | failed | running | queued | killed | not-started | running-or-killed | damaged."""
    if facts.persisted == "damaged":
        return "damaged"
    if facts.job_running:
        return "running"
    if facts.submitting:
        return "queued"
    if facts.job is not None and facts.job.state != "unknown":
        return scheduled_status(facts, facts.job)
    if facts.writer:
        return "running"
    from_events = facts.events or facts.persisted
    if from_events in FINISHED:
        return from_events
    if facts.job_ended is not None:
        return facts.job_ended
    if facts.lock_left:
        return "killed"
    if from_events == "not-started":
        return "not-started"
    recent = facts.last_event_age is not None and facts.last_event_age < EXTERNAL_LIVE_SECONDS
    return "running" if recent else "running-or-killed"


def scheduled_status(facts: RunFacts, job: JobFacts) -> str:
    """The status of a run a scheduler trains: the scheduler's state first (see the module doc)."""
    from_events = facts.events or facts.persisted
    if from_events == "completed":
        return "completed"     # its final metrics are written, whatever the scheduler still says
    if job.state == "running":
        return "running"
    if job.state == "queued":
        started = (facts.events == "running" and facts.last_event_age is not None
                   and facts.last_event_age < EXTERNAL_LIVE_SECONDS)
        return "running" if started else "queued"
    if from_events in FINISHED:
        return from_events
    if from_events == "not-started":     # the job ended before the run began
        return "stopped" if job.raw == "CANCELLED" else "failed"
    return "killed" if job.raw in KILLED_BY_SCHEDULER else "failed"
