"""The Training panel's jobs: runs it starts here (``scing train`` as a child process), runs it submits to
a scheduler (``scing train --launcher slurm``: the child submits and ends within seconds) and the
scheduler's word on every submitted run.

A submitted run is listed at once as queued; its events are then followed from its run directory like a
run started elsewhere (``CurveSources``), and its state comes from the scheduler: ``api.run_job`` for
each run that :meth:`TrainingState.runs_to_poll` names, in a worker, every few seconds while any
submitted run is queued or running (and once after each scan, for runs submitted before). Stop and
Resume do what ``TrainingState.actions`` says: SIGTERM to this window's process or ``api.stop_run`` (in a
worker) for a job; ``scing train --resume`` here, or the same submitted again to its launcher.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QTimer

from app.services import core_client
from app.services.training_process import TrainingJob
from app.state.runs import RunRow
from app.state.runs_status import RunFacts
from app.state.training import failure_message, killed_message

SCHEDULER_POLL_MS = 3000   # how often the scheduler is asked about queued / running submitted runs
SUBMITTED_NOTE = "[studio] submitted: status and curves follow the job; its console output is in the job's log\n"


class TrainingJobsMixin:
    """Jobs of :class:`app.panels.training_panel.TrainingPanel` (``self.jobs``, ``self.runs``, ``self.sources``)."""

    def _start_scheduler_polls(self) -> None:
        self._polling = False        # a poll runs in a worker now
        self._poll_again = None      # a poll asked for meanwhile: None, or whether of every run
        self.scheduler_timer = QTimer(self)
        self.scheduler_timer.setInterval(SCHEDULER_POLL_MS)
        self.scheduler_timer.timeout.connect(self.poll_scheduler)
        self.scheduler_timer.start()

    # -- the scheduler -------------------------------------------------------------------------------------
    def poll_scheduler(self, everything: bool = False) -> None:
        """Ask the scheduler about the runs the state names (all readable runs after a scan), in a worker."""
        if self._polling:
            self._poll_again = bool(self._poll_again) or everything
            return
        paths = self.runs.runs_to_poll(everything)
        if not paths:
            return
        self._polling = True
        poll = self.runs.poll_started()
        self.workers.start(core_client.run_jobs, paths,
                           on_result=lambda jobs: self._jobs_polled(jobs, poll),
                           on_error=lambda message: self.statusMessage.emit(f"could not ask the scheduler: {message}"),
                           on_finished=self._poll_finished)

    def _jobs_polled(self, jobs: dict, poll: int) -> None:
        self.runs.set_jobs({path: job for path, job in jobs.items() if self.runs.index_of(path) is not None}, poll)
        self.refresh_statuses()
        self._show_selected()

    def _poll_finished(self) -> None:
        self._polling = False
        if self._poll_again is not None:
            everything, self._poll_again = self._poll_again, None
            self.poll_scheduler(everything)

    # -- starting, stopping, resuming ----------------------------------------------------------------------
    def launch(self, request) -> TrainingJob:
        """Start ``scing train`` for a :class:`app.state.launch.LaunchRequest` (submitted to its launcher
        when it has one)."""
        argv = core_client.train_command(request.preset, request.run_dir, request.overrides, nproc=request.nproc,
                                         launcher=request.launcher)
        if request.launcher is not None:
            self.statusMessage.emit(f"submitting {request.run_dir.name} to {request.launcher.kind}…")
        return self._start_job(request.run_dir, argv, method=request.preset.split("/")[1],
                               dataset=request.preset.split("/")[0], submits=request.launcher is not None)

    def resume_selected(self) -> TrainingJob | None:
        row = self.runs.selected_row
        if row is None or (row.path in self.jobs and self.jobs[row.path].is_running()):
            return None
        resubmit = self.runs.actions.resubmit
        if resubmit:   # a run a scheduler trained: the same launcher again
            try:
                launcher = core_client.resubmit_launcher(self.workspace or row.path.parent.parent, resubmit, row.path)
            except ValueError as error:
                self._report_error(str(error))
                return None
            argv = core_client.train_command("", row.path, resume=True, launcher=launcher)
            return self._start_job(row.path, argv, method=row.method, dataset=row.dataset, submits=True)
        writer = core_client.run_writer(row.path)
        if writer is not None:   # another process trains it: a second writer would interleave its epochs
            self.errorOccurred.emit(writer)
            return None
        argv = core_client.train_command("", row.path, resume=True)
        return self._start_job(row.path, argv, method=row.method, dataset=row.dataset)

    def stop_selected(self) -> None:
        path = self.runs.selected
        if path is None:
            return
        if self.runs.actions.stop_job:   # a scheduler's job: scancel (queued) or stop after the step (running)
            self.runs.stop_requested(path)
            self.statusMessage.emit(f"stopping {path.name}…")
            self.workers.start(core_client.stop_run, path,
                               on_result=lambda said: self._stop_asked(path, said),
                               on_error=lambda message: self._stop_failed(path, message))
            return
        job = self.jobs.get(path)
        if job is not None and job.is_running():
            job.stop()
            self.statusMessage.emit(f"stopping {job.run_dir.name} (it checkpoints first)…")

    def _stop_asked(self, path: Path, said: str) -> None:
        self.statusMessage.emit(f"{path.name}: {said}")
        self.poll_scheduler()

    def _stop_failed(self, path: Path, message: str) -> None:
        self.runs.stop_failed(path)
        self._report_error(f"could not stop {path.name}: {message}")

    def _start_job(self, run_dir: Path, argv: list[str], method: str, dataset: str, submits: bool = False) -> TrainingJob:
        run_dir = Path(run_dir)
        old = self.jobs.pop(run_dir, None)
        if old is not None:
            old.deleteLater()
        job = TrainingJob(run_dir, argv, self, submits=submits)
        self.jobs[run_dir] = job
        self.sources.start_fresh(run_dir)
        job.output.connect(lambda text, p=run_dir: self._on_output(p, text))
        job.eventsArrived.connect(lambda events, p=run_dir: self.sources.add_events(p, events))
        job.finished.connect(lambda status, p=run_dir: self._on_job_finished(p, status))
        if self.runs.index_of(run_dir) is None:
            self.runs.set_rows(self.runs.rows + [RunRow(run_dir.name, run_dir, method, dataset, "not-started")])
            self.runAdded.emit(run_dir)
        job.start()
        self.refresh_statuses()
        if self.runs.selected == run_dir:
            self.show_run(run_dir)     # resumed: the new job's log
        else:
            self.runs.select(run_dir)  # selection_changed shows it
        if not submits:
            self.statusMessage.emit(f"started {run_dir.name}: {' '.join(argv[2:5])} …")
        return job

    def _on_output(self, path: Path, text: str) -> None:
        if path == self.runs.selected:
            self.log.append_text(text)

    def _on_job_finished(self, path: Path, status: str) -> None:
        job = self.jobs[path]
        if job.submits and status == "submitted":
            job.log_text.append(SUBMITTED_NOTE)
            self._on_output(path, SUBMITTED_NOTE)
            self.runs.submitted(path)          # queued until the scheduler answers about its job
            self.statusMessage.emit(f"{path.name} submitted; following it")
            self.sources.load(path, follow=True)
            self.poll_scheduler()
            self.runsChanged.emit()            # its config.yaml is written: the scan lists it properly
            return
        if not job.submits:
            self.runs.with_status(path, status)
        self.refresh_statuses()
        self.statusMessage.emit(f"{path.name} ended: {status}" if not job.submits else f"{path.name}: not submitted")
        if status == "killed":   # the signal says why; its last log line does not
            self._report_error(killed_message(path.name, job.exit_description()))
        elif status == "failed":
            what = "could not be submitted" if job.submits else "failed"
            self._report_error(failure_message(path.name, job.log_text, what))
        self.runsChanged.emit()

    # -- facts: gathered on a timer, judged by the state -------------------------------------------------
    def _facts(self, row: RunRow) -> RunFacts:
        """A process of this window that ended counts as ended at once (the signal or exit code it ended
        with), before QProcess reaps it and reports the end; until then the run's lock is that process's
        (a process not reaped yet still looks alive to the lock), so it is not asked."""
        job, curves = self.jobs.get(row.path), self.curves.get(row.path)
        submitting = job is not None and job.submits and job.is_running()
        job_running = job is not None and not job.submits and job.is_running()
        status = job.current_status() if job is not None else None
        last_event = (curves.last_event_time if curves is not None else None) or row.last_event_time
        unreported = job is not None and not job.submits and job.status in ("starting", "running")
        liveness = None if unreported else core_client.run_liveness(row.path)
        ended = job is not None and not job_running and status not in ("starting", "running", "submitted")
        return RunFacts(persisted=row.status,
                        events=curves.status if curves is not None and curves.num_events else None,
                        last_event_age=time.time() - last_event if last_event else None,
                        job_running=job_running,
                        job_ended=status if ended else None,
                        writer=liveness == "alive",
                        lock_left=liveness == "stale",
                        started_here=job is not None and not job.submits,
                        submitting=submitting)

    def running_jobs(self) -> list[TrainingJob]:
        return [job for job in self.jobs.values() if job.is_running()]
