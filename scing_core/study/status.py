"""Where each run of a study stands: ``scing study --status``, the studio's Study panel.

A run's state joins what its scheduler says (``job.json``'s job through submitit: queued, running,
ended; the run lock's process for runs trained inline) with what its run directory holds (metrics,
the last ``run_finished``, the last error):

    done         its final metrics are written
    queued       the scheduler holds the job, not started yet
    running      the job runs (or this machine's process trains it)
    preempted    it stopped on the scheduler's signal with a checkpoint: requeued (the scheduler holds it
                 again), or not (``--resume`` submits it again)
    failed       it ended without its metrics (the error line says why), or the scheduler ended it
    stopped      a user stopped it (``--resume`` continues it)
    not started  nothing ran yet
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scing_core.pipeline.launchers import JobRecord, job_state
from scing_core.pipeline.training import events_fraction
from scing_core.runs.events import read_events
from scing_core.runs.layout import RunDir
from scing_core.runs.lock import lock_state
from scing_core.runs.trained import TrainedRun
from scing_core.study.plan import StudyPlan

STATES = ("done", "queued", "running", "preempted", "failed", "stopped", "not started")


@dataclass(frozen=True)
class RunStatus:
    name: str                 # <row>-s<seed>
    row: str
    seed: int
    state: str                # one of STATES
    job_id: str = ""
    node: str = ""
    epoch: str = ""           # "stage 2, epoch 7/20"
    error: str = ""           # the last error line, for failed runs
    fraction: float = 0.0     # 0..1 of its training done
    launcher: str = ""
    scheduler: str = ""       # the scheduler's own word (PENDING, RUNNING, TIMEOUT, ...)


def run_status(run: RunDir, row: str = "", seed: int = 0, tests_wanted: int = 1) -> RunStatus:
    """One run's :class:`RunStatus` (``tests_wanted``: test sets its final metrics must cover)."""
    events = read_events(run.events) if run.events.exists() else []
    record = JobRecord.read(run)
    sched = job_state(record) if record else None
    common = dict(name=run.root.name, row=row, seed=seed, job_id=record.job_id if record else "",
                  launcher=record.launcher if record else "inline", scheduler=sched.raw if sched else "",
                  node=sched.node if sched else "", epoch=_epoch_reached(events), fraction=events_fraction(events))
    finished = [e for e in events if e["type"] == "run_finished"]
    last = finished[-1] if finished else None
    final = TrainedRun(run).final_metrics(events)
    if final is not None and len(final) >= tests_wanted:
        return RunStatus(state="done", **{**common, "fraction": 1.0})
    if sched is not None and sched.state == "queued":
        preempted = bool(last and last.get("reason") == "preempted")
        return RunStatus(state="preempted" if preempted else "queued", **common)
    if (sched is not None and sched.state == "running") or lock_state(run.root) == "alive":
        return RunStatus(state="running", **common)
    return RunStatus(**_ended(events, last, sched, record), **common)


def _ended(events: list[dict], last: dict | None, sched, record: JobRecord | None) -> dict:
    errors = [e for e in events if e["type"] == "error"]
    if last and last.get("status") == "stopped":
        return {"state": "preempted" if last.get("reason") == "preempted" else "stopped"}
    if errors or (last and last.get("status") == "failed"):
        message = str(errors[-1].get("message", "")) if errors else "failed"
        return {"state": "failed", "error": message.strip().splitlines()[-1] if message.strip() else "failed"}
    if sched is not None and sched.state == "ended" and sched.raw not in ("COMPLETED", "EXITED"):
        return {"state": "failed", "error": f"the scheduler ended the job: {sched.raw}" + _log_tail(record)}
    if sched is not None and sched.state == "ended":
        return {"state": "failed", "error": "the job ended without final metrics" + _log_tail(record)}
    return {"state": "not started" if not events else "stopped"}


def _log_tail(record: JobRecord | None) -> str:
    """The last line of the job's stderr (submitit's log), where Python's traceback ends."""
    if record is None:
        return ""
    folder = Path(record.folder)
    logs = sorted(folder.glob(f"{record.job_id}_*log.err"), key=lambda p: p.stat().st_mtime)
    if not logs:
        return ""
    lines = [line for line in logs[-1].read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    return f" ({lines[-1].strip()[:200]})" if lines else ""


def _epoch_reached(events: list[dict]) -> str:
    ends = [e for e in events if e["type"] == "epoch_end"]
    if not ends:
        return ""
    e = ends[-1]
    return f"stage {e.get('stage')}, epoch {int(e.get('epoch', 0)) + 1}/{e.get('epochs')}"


def study_status(plan: StudyPlan, study_dir: Path, tests_wanted: int = 1) -> list[RunStatus]:
    """Every (row, seed) run of ``plan`` in ``study_dir``, in the plan's order (seed by seed)."""
    return [run_status(RunDir.at(study_dir / "runs" / plan.run_name(row, seed)), row.name, seed, tests_wanted)
            for seed in plan.seeds for row in plan.rows]


def format_status(rows: list[RunStatus]) -> str:
    """The table ``scing study --status`` prints."""
    header = f"{'run':24s} {'state':11s} {'job':14s} {'node':12s} {'reached':22s} last error"
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(f"{r.name:24s} {r.state:11s} {r.job_id or '-':14s} {r.node or '-':12s} {r.epoch or '-':22s} "
                     f"{r.error or ''}".rstrip())
    counts = {s: sum(r.state == s for r in rows) for s in STATES}
    lines.append(", ".join(f"{n} {s}" for s, n in counts.items() if n))
    return "\n".join(lines)
