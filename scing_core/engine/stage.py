"""The one interface every training stage implements, and the optimizer step written once.

A stage says what trains and how: its batches per epoch (:meth:`Stage.epoch_batches`) and the loss
of one batch (:meth:`Stage.loss`). Everything around the loss is here, for every stage alike (as
fast-reid's ``run_step``): zero the gradients, backward through the AMP grad scaler (a no-op unless
fp16 autocast), clip, step, and the optimizer / scaler state a checkpoint carries. The loop that
walks epochs lives in :mod:`scing_core.engine.trainer`.

A stage whose results only exist once it ran to its end (stage 1: the class prototypes) declares
``end_checkpoint``: :class:`scing_core.engine.hooks.CheckpointHook` then writes its end state there
and its :meth:`Stage.artifacts` beside it, instead of a last-epoch ``last.pt``.
"""

from __future__ import annotations

from typing import Iterable

import torch

from scing_core.config import StageConfig


class Stage:
    index: int = 0                      # 1 or 2: recorded in checkpoints and events
    name: str = ""
    end_checkpoint: str | None = None   # RunDir attribute of the checkpoint written when the stage ends
    hooks: tuple = ()                   # hooks that run for this stage only, after the run's own

    def __init__(self, cfg: StageConfig, optimizer: torch.optim.Optimizer, fp16: bool) -> None:
        self.cfg, self.optimizer = cfg, optimizer
        self.scaler = torch.amp.GradScaler("cuda", enabled=fp16)

    # ---- what a stage defines
    def batches_in_epoch(self) -> int:
        """Batches a full pass over this stage's sampler yields (before ``steps_per_epoch`` caps it)."""
        raise NotImplementedError

    def epoch_batches(self, epoch: int, skip: int = 0) -> Iterable:
        """Epoch ``epoch``'s batches (at most ``steps_per_epoch``), minus the first ``skip``."""
        raise NotImplementedError

    def loss(self, batch) -> tuple[torch.Tensor, dict] | None:
        """(total loss, its parts as floats) for one batch; None when the batch holds nothing to train on."""
        raise NotImplementedError

    def finish(self) -> None:
        """Called once after the last epoch."""

    def artifacts(self) -> dict[str, dict]:
        """Files written beside ``end_checkpoint``: RunDir attribute -> checkpoint payload."""
        return {}

    # ---- the same for every stage
    @property
    def steps_per_epoch(self) -> int:
        n = self.batches_in_epoch()
        return min(n, self.cfg.steps_per_epoch) if self.cfg.steps_per_epoch > 0 else n

    def run_step(self, batch) -> dict | None:
        """One optimizer step on ``batch``; the loss parts, or None when the batch was skipped."""
        out = self.loss(batch)
        if out is None:
            return None
        total, parts = out
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(total).backward()
        if self.cfg.grad_clip > 0:
            self.scaler.unscale_(self.optimizer)
            params = [p for group in self.optimizer.param_groups for p in group["params"]]
            torch.nn.utils.clip_grad_norm_(params, self.cfg.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return parts

    def state_dict(self) -> dict:
        return {"optimizer": self.optimizer.state_dict(), "scaler": self.scaler.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        """Resume from :meth:`state_dict` (either part may be missing: a fresh stage keeps its own)."""
        if state.get("optimizer"):
            self.optimizer.load_state_dict(state["optimizer"])
        if state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
