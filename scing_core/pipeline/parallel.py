"""Steps that run at the same time: each in a process of its own, through submitit's local executor.

A :class:`StepGroup` is one entry of a pipeline made of independent steps (the demo's data and
SynthCLIP; its three runs; its figures). :func:`scing_core.pipeline.steps.run_steps` runs the group as
one step of its progress view and logs each member's own outcome. Each member process gets its share
of the CPU threads (``light`` members, pure-Python ones, take one and leave the rest to the others), so
the cores are used and not oversubscribed. A stop request reaches every member (SIGINT: a training
member checkpoints after its current step), and a member that fails is reported as failed; a failed
member that is not ``optional`` fails the group once the others ended.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path

from scing_core.pipeline.progress import PipelineProgress, StepReporter, StepStopped, StopFlag
from scing_core.pipeline.steps import Step, StepOutcome

log = logging.getLogger(__name__)

POLL_S = 0.5
LOCAL_TIMEOUT_MIN = 7 * 24 * 60


class StepGroup(Step):
    """``steps`` run at once (see the module docstring). ``processes``: how many member processes (default:
    one per member; fewer, e.g. the core count, for many short members, which then share a process each
    and its imports, longest first)."""

    def __init__(self, name: str, title: str, steps: list[Step], processes: int | None = None,
                 cores: int | None = None, inline_below: float = 0.0) -> None:
        self.name, self.title, self.steps = name, title, list(steps)
        self.processes = processes
        self.inline_below = inline_below   # expected seconds of work under which the members run here, in turn
        self.cores = cores or os.cpu_count() or 1
        self.outcomes: list[StepOutcome] = []

    def _todo(self) -> list[Step]:
        return [s for s in self.steps if not s.unavailable_reason() and not s.is_done()]

    def expected_seconds(self) -> float:
        todo = self._todo()
        if not todo:
            return 0.0
        work = sum(s.expected_seconds() for s in todo)
        return max(max(s.expected_seconds() for s in todo), work / min(len(todo), self.cores))

    def is_done(self) -> bool:
        return not self._todo()

    def batches(self, todo: list[Step]) -> list[list[Step]]:
        """The members each process runs: one each, or ``processes`` batches of about equal expected time."""
        count = min(self.processes or len(todo), len(todo))
        batches: list[list[Step]] = [[] for _ in range(count)]
        loads = [0.0] * count
        for step in sorted(todo, key=lambda s: -s.expected_seconds()):
            least = loads.index(min(loads))
            batches[least].append(step)
            loads[least] += step.expected_seconds()
        return [sorted(b, key=todo.index) for b in batches]

    def threads_for(self, batches: list[list[Step]]) -> list[int]:
        """CPU threads of each process: one for a batch of light members (short, pure Python: they overlap
        the others for seconds), the cores shared by the others."""
        light = [all(getattr(s, "light", False) for s in batch) for batch in batches]
        heavy = len(batches) - sum(light)
        return [1 if is_light else max(1, self.cores // max(heavy, 1)) for is_light in light]

    def run(self, reporter: StepReporter) -> str:
        import submitit   # here: ~60 ms; the demo package (DemoWorkspace: api.launch_overrides, *fast*) imports this module

        todo = self._todo()
        self.outcomes = [_skipped(s) for s in self.steps if s not in todo]
        if sum(s.expected_seconds() for s in todo) < self.inline_below:   # a new process costs seconds of imports
            return self._run_here(todo, reporter)
        batches = self.batches(todo)
        folder = Path(tempfile.mkdtemp(prefix=f"scing-{self.name}-"))
        executor = submitit.LocalExecutor(folder=str(folder))
        executor.update_parameters(timeout_min=LOCAL_TIMEOUT_MIN)
        try:
            jobs = [(batch, executor.submit(MemberJob(batch, threads)))
                    for batch, threads in zip(batches, self.threads_for(batches))]
            stopping = self._follow(jobs, reporter, len(todo))
            failures = self._collect(jobs)
        finally:
            shutil.rmtree(folder, ignore_errors=True)   # submitit's pickles and logs (failures carry their tail)
        if stopping or any(o.action == "stopped" for o in self.outcomes):
            raise StepStopped(self.name)
        if failures:
            raise failures[0]
        return "ran"

    def _run_here(self, todo: list[Step], reporter: StepReporter) -> str:
        """Short work: the members in turn in this process (it has its imports already)."""
        results = MemberJob(todo, threads=0, reporter=reporter)()
        failures = self._record(list(zip(todo, results)))
        if any(o.action == "stopped" for o in self.outcomes):
            raise StepStopped(self.name)
        if failures:
            raise failures[0]
        return "ran"

    def _follow(self, jobs: list, reporter: StepReporter, members: int) -> bool:
        """Wait for every process, reporting the share done; on a stop request, ask each to stop."""
        stopping = False
        while not all(job.done() for _, job in jobs):
            time.sleep(POLL_S)
            done = sum(_batch_fraction(batch, job) for batch, job in jobs)
            try:
                reporter.fraction(done / members, f"{int(done)}/{members} done")
            except StepStopped:
                if not stopping:
                    stopping = True
                    for _, job in jobs:
                        _interrupt(job)
        return stopping

    def _collect(self, jobs: list) -> list[BaseException]:
        pairs = []
        for batch, job in jobs:
            try:
                results = job.result()
            except Exception as exc:   # the process itself died: every member it had not finished failed
                results = [(s.name, "failed", 0.0, 0.0, _last_line(exc)) for s in batch]
            pairs += list(zip(batch, results))
        return self._record(pairs)

    def _record(self, pairs: list) -> list[BaseException]:
        failures = []
        for step, (name, action, seconds, cpu, note) in pairs:
            self.outcomes.append(StepOutcome(name, action, seconds, note, cpu))
            if action == "failed" and not getattr(step, "optional", False):
                failures.append(RuntimeError(f"{name} failed: {note}"))
            elif action == "failed":
                log.warning("%s failed (%s); the report says so", name, note)
        order = [s.name for s in self.steps]
        self.outcomes.sort(key=lambda o: order.index(o.step))
        return failures


class MemberJob:
    """What one member process runs: its steps in order, with ``threads`` CPU threads; SIGINT is a stop
    request (a training member checkpoints after its current step; the members not started stop)."""

    def __init__(self, steps: list[Step], threads: int, reporter: StepReporter | None = None) -> None:
        self.steps, self.threads, self.reporter = steps, threads, reporter

    def __call__(self) -> list[tuple[str, str, float, float, str]]:
        stop = self.reporter.stop if self.reporter is not None else StopFlag()
        if self.reporter is None:   # a member process: its share of the cores, SIGINT as a stop request
            import torch   # here: in the member's process; DemoWorkspace's users import this module (see run)

            torch.set_num_threads(self.threads)
            if threading.current_thread() is threading.main_thread():
                signal.signal(signal.SIGINT, lambda *_: stop.request())
        results = []
        for index, step in enumerate(self.steps):
            t0, c0 = time.time(), time.process_time()
            note = ""
            if stop.requested:
                action, note = "stopped", "stop requested before the step started"
            else:
                try:
                    action = step.run(self._reporter(step, index, stop))
                except StepStopped:
                    action, note = "stopped", "stopped; re-run to continue"
                except Exception as exc:   # one failing member does not take the others of its process down
                    action, note = "failed", f"{type(exc).__name__}: {exc}"
            results.append((step.name, action, round(time.time() - t0, 3), round(time.process_time() - c0, 3), note))
        return results

    def _reporter(self, step: Step, index: int, stop: StopFlag) -> StepReporter:
        """In a process of its own a member reports to nobody; in turn in the pipeline's process, its share
        of the group's progress (member ``index`` of n covers ``[index / n, (index + 1) / n]``)."""
        if self.reporter is None:
            return StepReporter(step.name, PipelineProgress(), stop)
        return StepReporter(self.reporter.name, _Share(self.reporter.progress, index, len(self.steps)), stop)


class _Share(PipelineProgress):
    def __init__(self, progress: PipelineProgress, index: int, count: int) -> None:
        self.progress, self.index, self.count = progress, index, count

    def step_progress(self, name: str, fraction: float, detail: str = "") -> None:
        self.progress.step_progress(name, (self.index + fraction) / self.count, detail)


def _batch_fraction(batch: list[Step], job) -> float:
    if job.done():
        return float(len(batch))
    return sum(1.0 if s.is_done() else _member_fraction(s) for s in batch)


def _skipped(step: Step) -> StepOutcome:
    reason = step.unavailable_reason()
    return StepOutcome(step.name, "unavailable", 0.0, reason) if reason else StepOutcome(step.name, "skipped")


def _member_fraction(step: Step) -> float:
    """How far a running member is: a training member's run directory tells; others count 0 until done."""
    run_dir = getattr(step, "run_dir", None)
    if run_dir is None:
        return 0.0
    from scing_core.pipeline.training import run_fraction   # here: torch (the engine); see StepGroup.run

    return run_fraction(run_dir)


def _interrupt(job) -> None:
    """SIGINT to the member's own process (the local job's task), not to submitit's controller."""
    pid = _task_pid(job)
    if pid:
        try:
            os.kill(pid, signal.SIGINT)
        except ProcessLookupError:
            pass


def _task_pid(job) -> int | None:
    """The pid of the local job's task: the controller's child (from /proc)."""
    try:
        children = Path(f"/proc/{job.job_id}/task/{job.job_id}/children").read_text().split()
    except OSError:
        return None
    return int(children[0]) if children else None


def _last_line(exc: BaseException) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return lines[-1].strip()[:300] if lines else type(exc).__name__
