"""The training loop: short, with stages as small objects and everything else as hooks.

A stage (:class:`scing_core.engine.stage.Stage`: ``PromptStage``, ``ImageStage``) knows what trains,
its batches and its loss, and takes the optimizer step; the loop here only walks epochs and batches,
sets the learning rate, reseeds per epoch, checks the loss is finite, honours a stop request and
calls the hooks (the run's: checkpointing, console; the stage's own: stage 2's evaluation).
"""

from __future__ import annotations

import logging
import math
import time

from scing_core.engine.seeding import epoch_seed, restore_rng, seed_everything
from scing_core.engine.context import TrainContext
from scing_core.engine.distributed import any_rank
from scing_core.engine.schedule import set_epoch_lr
from scing_core.errors import ScingError

log = logging.getLogger(__name__)


class TrainingStopped(Exception):
    """Raised after a stop request was honoured and a checkpoint written."""


class TrainingDiverged(ScingError):
    """The loss became NaN or infinite."""


class Hook:
    """Override what you need. Hooks run on every rank; they check ``ctx.dist.is_main`` for I/O."""

    def after_step(self, ctx: TrainContext, stage, epoch: int, step: int, parts: dict) -> None: ...

    def after_epoch(self, ctx: TrainContext, stage, epoch: int) -> None: ...

    def on_stop(self, ctx: TrainContext, stage, epoch: int, step: int) -> None: ...

    def after_stage(self, ctx: TrainContext, stage) -> None: ...

    def on_event(self, event: dict) -> None: ...


def _check_finite(ctx: TrainContext, stage, epoch: int, step: int, parts: dict, lr: float) -> None:
    if all(math.isfinite(v) for v in parts.values()):
        return
    losses = ", ".join(f"{k}={v:.4g}" for k, v in parts.items())
    message = (
        f"non-finite loss in stage {stage.index} at epoch {epoch + 1}, step {step + 1} (lr {lr:.3g}): {losses}. "
        "Lower the learning rate, enable stage grad_clip, or set amp=off."
    )
    ctx.emit("error", stage=stage.index, epoch=epoch, step=step, lr=lr, losses=parts, message=message)
    raise TrainingDiverged(message)


def run_stage(ctx: TrainContext, stage, start_epoch: int = 0, start_step: int = 0, rng_state: dict | None = None) -> None:
    """Train ``stage`` from ``start_epoch`` (skipping ``start_step`` batches of it) to its last epoch."""
    cfg = stage.cfg
    hooks = [*ctx.hooks, *stage.hooks]
    ctx.emit("stage_started", stage=stage.index, name=stage.name, epochs=cfg.epochs, start_epoch=start_epoch)
    started = time.time()
    for epoch in range(start_epoch, cfg.epochs):
        seed_everything(epoch_seed(ctx.cfg.seed, stage.index, epoch))
        batches = stage.epoch_batches(epoch, skip=start_step if epoch == start_epoch else 0)
        if epoch == start_epoch and start_step and rng_state is not None:
            restore_rng(rng_state)  # continue exactly where the stop left the RNG
        lr = set_epoch_lr(stage.optimizer, cfg, epoch)
        first = start_step if epoch == start_epoch else 0
        totals, count, t0 = {}, 0, time.time()
        for step, batch in enumerate(batches, start=first):
            parts = stage.run_step(batch)
            if parts is None:  # every image of the batch was unreadable
                continue
            _check_finite(ctx, stage, epoch, step, parts, lr)
            count += 1
            for k, v in parts.items():
                totals[k] = totals.get(k, 0.0) + v
            for hook in hooks:
                hook.after_step(ctx, stage, epoch, step, parts)
            if ctx.cfg.log_every and (step + 1) % ctx.cfg.log_every == 0:
                ctx.emit("step", stage=stage.index, epoch=epoch, step=step, steps=stage.steps_per_epoch, lr=lr, losses=parts)
            if any_rank(ctx.stop_requested, ctx.dist, ctx.device):   # every rank stops at the same step
                for hook in hooks:
                    hook.on_stop(ctx, stage, epoch, step + 1)
                raise TrainingStopped()
        means = {k: v / max(count, 1) for k, v in totals.items()}
        ctx.emit("epoch_end", stage=stage.index, epoch=epoch, epochs=cfg.epochs, lr=lr, losses=means,
                 seconds=round(time.time() - t0, 3))
        for hook in hooks:
            hook.after_epoch(ctx, stage, epoch)
    stage.finish()
    ctx.emit("stage_finished", stage=stage.index, name=stage.name, seconds=round(time.time() - started, 3))
    for hook in hooks:
        hook.after_stage(ctx, stage)
