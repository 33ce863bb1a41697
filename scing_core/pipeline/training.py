"""Training as a pipeline step: train a config into a run directory, or finish an interrupted run.

:func:`train_or_resume` is what a training step runs: a run directory that holds a config.yaml
continues (the config must be the same), one killed before writing it is cleared first. The
trainer's progress maps onto the step's reporter (:class:`RunProgressHook`), and a stop request
becomes the engine's stop (a checkpoint, then ``run_finished`` status ``stopped``).
"""

from __future__ import annotations

import shutil
from contextlib import contextmanager

import torch

from scing_core.config import TrainConfig, load_config, to_dict
from scing_core.engine.run import train
from scing_core.engine.trainer import Hook
from scing_core.errors import InputError
from scing_core.pipeline.progress import StepReporter, StepStopped
from scing_core.runs.events import read_events
from scing_core.runs.layout import RunDir

RUN_LEFTOVERS = set(RunDir.EARLY_ENTRIES)  # what a run writes before its config.yaml


class RunProgressHook(Hook):
    """Maps the trainer's steps onto the step reporter; turns a stop request into the engine's stop."""

    def __init__(self, reporter: StepReporter, stage1_share: float) -> None:
        self.reporter, self.share = reporter, stage1_share
        self.stopping = False

    def after_step(self, ctx, stage, epoch, step, parts):
        per_epoch = max(stage.steps_per_epoch, 1)
        within = (epoch * per_epoch + step + 1) / (max(stage.cfg.epochs, 1) * per_epoch)
        done = within * self.share if stage.index == 1 else self.share + within * (1 - self.share)
        detail = f"stage {stage.index} epoch {epoch + 1}/{stage.cfg.epochs}  loss {parts.get('total', float('nan')):.3f}"
        try:
            self.reporter.fraction(done, detail)
        except StepStopped:
            self.stopping = True
            ctx.stop_requested = True  # honoured after this step: checkpoint, then run_finished "stopped"


STAGE1_SHARE = 0.2   # share of a run's work before stage 2, for progress fractions read off its events


@contextmanager
def cpu_threads(threads: int):
    """Torch's CPU threads set to ``threads`` inside the block (0: left as they are)."""
    before = torch.get_num_threads()
    if threads > 0:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def events_fraction(events: list[dict]) -> float:
    """How much of a run's training its events show done (0..1): the last epoch_end's stage and epoch."""
    ends = [e for e in events if e.get("type") == "epoch_end"]
    if not ends:
        return 0.0
    last = ends[-1]
    within = (int(last.get("epoch", 0)) + 1) / max(int(last.get("epochs", 1)), 1)
    return within * STAGE1_SHARE if last.get("stage") == 1 else STAGE1_SHARE + within * (1 - STAGE1_SHARE)


def run_fraction(run_dir) -> float:
    """:func:`events_fraction` of the run at ``run_dir`` (1.0 once its metrics are written)."""
    run = RunDir.at(run_dir)
    return 1.0 if run.metrics.exists() else events_fraction(read_events(run.events))


def prepare_run_dir(run: RunDir, cfg: TrainConfig) -> bool:
    """True when ``run`` continues (same config), False when it starts (leftovers of a kill cleared)."""
    if run.config.exists():
        check_same_config(run, cfg)
        return True
    clear_leftovers(run)
    return False


def train_or_resume(cfg: TrainConfig, run: RunDir, reporter: StepReporter, stage1_share: float) -> str:
    """Train ``cfg`` into ``run`` in this process (or finish it); ``ran`` or ``resumed``; raises
    :class:`StepStopped` when a stop request ended it early (its checkpoint resumes it)."""
    resume = prepare_run_dir(run, cfg)
    hook = RunProgressHook(reporter, stage1_share)
    train(cfg, run.root, resume=resume, hooks=[hook])
    if hook.stopping or not run.metrics.exists():
        raise StepStopped(reporter.name)
    return "resumed" if resume else "ran"


def check_same_config(run: RunDir, cfg: TrainConfig) -> None:
    saved = to_dict(load_config(run.config))
    wanted = to_dict(cfg)
    if saved != wanted:
        keys = sorted(_diff_keys(saved, wanted))
        raise InputError(f"run '{run.root}' was started with another configuration ({', '.join(keys[:6])} differ); "
                         "delete that run folder to retrain it, or choose another --workspace")


def _diff_keys(a: dict, b: dict, prefix: str = "") -> list[str]:
    out = []
    for key in sorted(set(a) | set(b)):
        x, y = a.get(key), b.get(key)
        if isinstance(x, dict) and isinstance(y, dict):
            out += _diff_keys(x, y, f"{prefix}{key}.")
        elif x != y:
            out.append(prefix + key)
    return out


def clear_leftovers(run: RunDir) -> None:
    """Remove what a run killed before writing config.yaml left behind (and refuse anything else)."""
    if not run.root.is_dir():
        return
    entries = {p.name for p in run.root.iterdir()}
    if entries - RUN_LEFTOVERS:
        raise InputError(f"'{run.root}' holds files that are not a run ({', '.join(sorted(entries - RUN_LEFTOVERS))}); "
                         "move them away or choose another --workspace")
    for name in entries:
        path = run.root / name
        shutil.rmtree(path) if path.is_dir() else path.unlink()
