"""Hooks of the training loop: checkpointing and periodic evaluation (console output lives in the CLI)."""

from __future__ import annotations

import torch

from scing_core.config import to_dict
from scing_core.engine.seeding import capture_rng
from scing_core.runs.checkpoints import save_checkpoint
from scing_core.engine.context import TrainContext
from scing_core.engine.distributed import barrier
from scing_core.engine.evaluate import evaluate_model
from scing_core.engine.trainer import Hook


def checkpoint_state(ctx: TrainContext, stage, epoch: int, step_in_epoch: int) -> dict:
    return {
        "model": ctx.model.state_dict(),
        "stage": stage.index,
        "epoch": epoch,
        "step_in_epoch": step_in_epoch,
        "stage_state": stage.state_dict(),
        "rng": capture_rng(),
        "best": ctx.best_map,
        "best_epoch": ctx.best_epoch,
        "config": to_dict(ctx.cfg),
        "num_classes": ctx.model.num_classes,
        "activation": ctx.model.backbone.activation,   # what was built: a reload rebuilds the same network
        "num_cams": ctx.model.backbone.sie_cameras,   # SIE embeddings built (0: none), what a reload builds
    }


class CheckpointHook(Hook):
    """``last.pt`` after every N epochs and on a stop. A stage with an ``end_checkpoint`` (stage 1:
    ``stage1.pt``) gets that instead of its last epoch's ``last.pt``, written when it ended, with its
    ``artifacts`` (``prototypes.pt``) and a ``last.pt`` that starts the next stage."""

    def _save(self, ctx: TrainContext, state: dict, path, tag: str) -> None:
        if ctx.dist.is_main:
            save_checkpoint(state, path)
            ctx.emit("checkpoint", path=str(path), tag=tag, stage=state["stage"], epoch=state["epoch"])
        barrier(ctx.dist)

    def after_epoch(self, ctx, stage, epoch):
        last_epoch = epoch + 1 == stage.cfg.epochs
        if last_epoch and stage.end_checkpoint:
            return  # after_stage writes the end checkpoint once the stage's artifacts exist
        if (epoch + 1) % max(ctx.cfg.checkpoint_every, 1) == 0 or last_epoch:
            self._save(ctx, checkpoint_state(ctx, stage, epoch + 1, 0), ctx.run.last, "last")

    def on_stop(self, ctx, stage, epoch, step):
        self._save(ctx, checkpoint_state(ctx, stage, epoch, step), ctx.run.last, "last")

    def after_stage(self, ctx, stage):
        if not stage.end_checkpoint:
            return
        if ctx.dist.is_main:
            for name, payload in stage.artifacts().items():
                save_checkpoint(payload, getattr(ctx.run, name))
        state = checkpoint_state(ctx, stage, stage.cfg.epochs, 0)
        self._save(ctx, state, getattr(ctx.run, stage.end_checkpoint), stage.end_checkpoint)
        # the next thing to run is the next stage from its first epoch
        self._save(ctx, {**state, "stage": stage.index + 1, "epoch": 0, "stage_state": {}}, ctx.run.last, "last")


class EvalHook(Hook):
    """Stage 2's own hook: evaluate every ``eval_every`` epochs and at the end. With ``selects`` (model selection
    ``test`` or ``val``) the best mAP so far is kept as ``best.pt``; otherwise evaluations only draw
    the curves and nothing is chosen from them."""

    def __init__(self, dataset, label: str, selects: bool) -> None:
        self.dataset, self.label, self.selects = dataset, label, selects

    def after_epoch(self, ctx, stage, epoch):
        every = max(ctx.cfg.eval_every, 1)
        if (epoch + 1) % every and epoch + 1 != stage.cfg.epochs:
            return
        if ctx.dist.is_main:
            outcome = evaluate_model(ctx.model, self.dataset, ctx.cfg, ctx.device, label=self.label)
            improved = self.selects and outcome.metrics["mAP"] > ctx.best_map
            extra = {"best": improved} if self.selects else {}
            ctx.emit("eval", stage=stage.index, epoch=epoch, dataset=self.label, selection=self.selects, **extra,
                     **outcome.metrics)
            if improved:
                ctx.best_map, ctx.best_epoch = outcome.metrics["mAP"], epoch + 1
                save_checkpoint(checkpoint_state(ctx, stage, epoch + 1, 0), ctx.run.best)
                ctx.emit("checkpoint", path=str(ctx.run.best), tag="best", stage=stage.index, epoch=epoch + 1)
        if self.selects:
            best = torch.tensor([ctx.best_map, float(ctx.best_epoch)], device=ctx.device)
            if ctx.dist.enabled:
                torch.distributed.broadcast(best, 0)
            ctx.best_map, ctx.best_epoch = float(best[0].item()), int(best[1].item())
        barrier(ctx.dist)
