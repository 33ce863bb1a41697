"""A training run as a scheduler job: the callable submitit runs on a node (or on this machine).

``TrainJob(run_dir)`` trains the run whose config.yaml the submitter wrote (``train(..., resume=True)``:
a fresh run starts, an interrupted one continues from ``checkpoints/last.pt``). It follows submitit's
checkpointing protocol, so a run survives its scheduler:

- on the pre-timeout / preemption signal (Slurm's ``--signal=USR2@90``, which submitit sets) submitit
  calls :meth:`TrainJob.checkpoint`; the run stops after its current step, writes ``last.pt`` and
  ends ``stopped`` with ``reason: preempted``, then submitit requeues the job, which resumes;
- SIGTERM (Slurm sends it first when it preempts) does the same;
- SIGINT (a user's stop) stops after the current step too, without requeueing.

The training runs in a worker thread so that the main thread, where Python runs signal handlers,
can wait for that step to end. With several tasks (nodes x GPUs) each task is one DDP rank:
``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR`` ... come from the Slurm environment (submitit's
``TorchDistributedEnvironment``); only rank 0 receives the scheduler's signal, and the engine stops
every rank after the same step.
"""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass

from scing_core.config import load_config
from scing_core.runs.layout import RunDir

log = logging.getLogger(__name__)

STOP_GRACE_S = 600.0   # at most this long for the current step to end after a stop signal


@dataclass(frozen=True)
class TrainJob:
    """Train (or continue) the run in ``run_dir``; ``threads``: torch CPU threads (0: torch's default)."""

    run_dir: str
    threads: int = 0

    def __call__(self) -> dict:
        import torch   # here, as the other heavy imports of this module: `import scing_core.api` loads it

        _export_distributed_environment()
        if self.threads > 0:
            torch.set_num_threads(self.threads)
        trainer = _TrainingThread(RunDir.at(self.run_dir))
        _ACTIVE.append(trainer)
        handlers = _install_handlers(trainer)
        try:
            trainer.start()
            while trainer.is_alive():
                trainer.join(0.5)   # the main thread stays free to run signal handlers
        finally:
            _ACTIVE.remove(trainer)
            for sig, previous in handlers.items():
                signal.signal(sig, previous)
        if trainer.error is not None:
            raise trainer.error
        return trainer.metrics

    def checkpoint(self, *args, **kwargs):
        """submitit's hook, called on the preemption signal (rank 0): stop after the current step, then
        requeue this same job (which resumes from ``last.pt``)."""
        from submitit.helpers import DelayedSubmission   # here: submitit adds ~60 ms to `import scing_core.api`

        for trainer in list(_ACTIVE):
            trainer.stop("preempted")
        return DelayedSubmission(TrainJob(self.run_dir, self.threads))


_ACTIVE: list["_TrainingThread"] = []   # the job running in this process (one at a time)


class _TrainingThread(threading.Thread):
    def __init__(self, run: RunDir) -> None:
        super().__init__(name=f"train {run.root.name}", daemon=True)
        self.run_dir = run
        self.metrics: dict = {}
        self.error: BaseException | None = None
        self.context: list = []
        self._stop_reason: str | None = None

    def run(self) -> None:
        from scing_core.engine.run import train   # here: torch loads in the job, not with `import scing_core.api`

        try:
            cfg = load_config(self.run_dir.config)
            self.metrics = train(cfg, self.run_dir.root, resume=True, hooks=[_StopHook(self)], ctx_out=self.context)
        except BaseException as exc:   # handed to the main thread, which raises it as the job's error
            self.error = exc

    @property
    def stop_reason(self) -> str | None:
        return self._stop_reason

    def stop(self, reason: str) -> None:
        """Ask for a stop after the current step and wait for the checkpoint (up to STOP_GRACE_S)."""
        self._stop_reason = reason
        if self.context:
            self.context[0].stop_reason = reason
            self.context[0].stop_requested = True
        log.warning("stopping %s after its current step (%s)", self.run_dir.root, reason)
        if threading.current_thread() is not self:
            self.join(STOP_GRACE_S)


class _StopHook:
    """Passes a stop that arrived before the training context existed on to it, at the first step."""

    def __init__(self, trainer: _TrainingThread) -> None:
        self.trainer = trainer

    def after_step(self, ctx, stage, epoch, step, parts):
        if self.trainer.stop_reason and not ctx.stop_requested:
            ctx.stop_reason, ctx.stop_requested = self.trainer.stop_reason, True

    def after_epoch(self, ctx, stage, epoch): ...

    def on_stop(self, ctx, stage, epoch, step): ...

    def after_stage(self, ctx, stage): ...

    def on_event(self, event): ...


def _install_handlers(trainer: _TrainingThread) -> dict:
    """SIGTERM: preempted (checkpoint, then submitit's requeue, as on USR2); SIGINT: a user's stop."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    requeue = signal.getsignal(_preemption_signal())   # submitit's checkpoint-and-requeue handler

    def on_term(signum, frame):
        if callable(requeue) and requeue not in (signal.SIG_DFL, signal.SIG_IGN):
            try:
                requeue(signum, frame)   # calls TrainJob.checkpoint, then requeues and exits
            except Exception as exc:     # e.g. a cancelled job cannot be requeued: its checkpoint stays
                log.warning("not requeued (%s); the run resumes from its checkpoint with --resume", exc)
                raise SystemExit(143) from None
        else:
            trainer.stop("preempted")

    def on_int(signum, frame):
        trainer.stop("requested")

    return {signal.SIGTERM: signal.signal(signal.SIGTERM, on_term), signal.SIGINT: signal.signal(signal.SIGINT, on_int)}


def _preemption_signal() -> int:
    try:
        from submitit.core.job_environment import JobEnvironment   # here: ~60 ms of `import scing_core.api`

        return JobEnvironment._usr_sig()
    except ImportError:
        return signal.SIGUSR2


def _export_distributed_environment() -> None:
    """One DDP rank per task when the job has several (RANK, WORLD_SIZE, MASTER_ADDR ... from Slurm)."""
    try:
        import submitit   # here (and the next line): ~60 ms of `import scing_core.api`
        from submitit.helpers import TorchDistributedEnvironment   # here: see the line above

        if submitit.JobEnvironment().num_tasks > 1:
            TorchDistributedEnvironment().export(set_cuda_visible_device=False)
    except (ImportError, RuntimeError, KeyError):
        return   # not inside a submitit job (called directly): one process
