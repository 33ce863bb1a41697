"""A study's runs through a launcher (``--launcher local|slurm``): every (row, seed) run is one job.

:class:`LaunchedRunsStep` is the study's one training step under a launcher: it writes each run's
config.yaml, skips runs that are done or that the scheduler already holds, and submits the rest
(:func:`scing_core.pipeline.launchers.submit`). The local launcher blocks, with the runs' combined
progress, until every job ended (a stop asks each training to checkpoint and end); Slurm returns
once the job array is queued, and ``scing study --status`` follows it.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from scing_core.config import resolve_config
from scing_core.errors import ScingError
from scing_core.pipeline.launchers import JobRecord, LauncherSettings, job_state, prepare_for_submission, stop_run, submit
from scing_core.pipeline.progress import StepReporter, StepStopped
from scing_core.pipeline.steps import Step
from scing_core.runs.layout import RunDir
from scing_core.study.status import run_status

log = logging.getLogger(__name__)

POLL_S = 1.0


class LaunchedRun:
    """One (row, seed) run of a study as a job: its folder, preset and overrides."""

    def __init__(self, name: str, run_dir: Path, preset: str, overrides: list[str]) -> None:
        self.name, self.run = name, RunDir.at(run_dir)
        self.preset, self.overrides = preset, list(overrides)

    def tests_wanted(self) -> int:
        return len(resolve_config(self.preset, self.overrides).data.test_datasets) or 1

    def state(self) -> str:
        return run_status(self.run, tests_wanted=self.tests_wanted()).state

    def prepare(self) -> None:
        prepare_for_submission(self.run, resolve_config(self.preset, self.overrides))


class LaunchedRunsStep(Step):
    """Submit the study's runs that are neither done nor held by the scheduler (see the module doc)."""

    name = "runs"

    def __init__(self, runs: list[LaunchedRun], settings: LauncherSettings, folder: Path, job_name: str,
                 run_seconds: float) -> None:
        self.runs, self.settings, self.folder, self.job_name = runs, settings, folder, job_name
        self.run_seconds = run_seconds
        self.title = (f"{len(runs)} runs on the {settings.kind} launcher"
                      + (f", {settings.parallel} at a time" if settings.parallel > 1 else ""))
        self.records: list[JobRecord] = []

    def _todo(self) -> list[LaunchedRun]:
        return [r for r in self.runs if r.state() != "done" and not _held(r)]

    def expected_seconds(self) -> float:
        waves = -(-len(self._todo()) // self.settings.parallel)
        return waves * self.run_seconds if self.settings.kind == "local" else 5.0

    def is_done(self) -> bool:
        return not self._todo()

    def run(self, reporter: StepReporter) -> str:
        todo = self._todo()
        for run in todo:
            run.prepare()
        if self.settings.kind == "slurm":
            self.records = submit([r.run for r in todo], self.settings, self.folder, self.job_name)
            return "submitted"
        return self._run_locally(todo, reporter)

    def _run_locally(self, todo: list[LaunchedRun], reporter: StepReporter) -> str:
        failure: list[BaseException] = []

        def launch():
            try:
                self.records = submit([r.run for r in todo], self.settings, self.folder, self.job_name)
            except BaseException as exc:   # raised below, in the step's thread
                failure.append(exc)

        worker = threading.Thread(target=launch, name="local launcher", daemon=True)
        worker.start()
        stopping = False
        while worker.is_alive():
            worker.join(POLL_S)
            done = sum(run_status(r.run).fraction for r in todo) / max(len(todo), 1)
            try:
                reporter.fraction(done, f"{sum(r.state() == 'done' for r in todo)}/{len(todo)} runs done")
            except StepStopped:
                if not stopping:
                    stopping = True
                    for run in todo:
                        stop_run(run.run)
        if failure:
            raise failure[0]
        if stopping or any(r.state() != "done" for r in todo):
            raise StepStopped(self.name) if stopping else _failed(todo)
        return "ran"


def _held(run: LaunchedRun) -> bool:
    record = JobRecord.read(run.run)
    return record is not None and job_state(record).state in ("queued", "running")


def _failed(todo: list[LaunchedRun]):
    lines = [f"{r.name}: {status.state} {status.error}".strip() for r in todo
             if (status := run_status(r.run, tests_wanted=r.tests_wanted())).state != "done"]
    return ScingError("runs did not finish: " + "; ".join(lines) + "; see `scing study --status`, then --resume")
