"""The one place a run's status is decided for the Training panel: process liveness + events.

The panel gathers :class:`RunFacts` for every listed run on a timer (and whenever events arrive or a
job ends) and hands them to :class:`app.state.training.TrainingState`, which applies
:func:`derive_status` and emits what changed: the table, the title and the buttons agree.

Liveness comes first: a process this window started, or any live process holding the run's
``train.lock``, means "running". Without one, the events decide: a ``run_finished`` status, else how
our own process ended, else "killed" when the lock was left behind by a process that is gone
(SIGKILL, OOM, reboot). A run without any lock (written before locks existed, or by hand) counts as
running while its last event is recent, as the core cannot tell ("running-or-killed") otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

FINISHED = ("completed", "stopped", "failed")
EXTERNAL_LIVE_SECONDS = 90   # a run without a lock file counts as running while its last event is this recent


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


def derive_status(facts: RunFacts) -> str:
    """completed | stopped | failed | running | killed | not-started | running-or-killed | damaged."""
    if facts.persisted == "damaged":
        return "damaged"
    if facts.job_running or facts.writer:
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
