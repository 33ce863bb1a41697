"""Stage 2: fine-tune the image encoder (and heads) against the frozen class text prototypes.

Loss per the preset: cross-entropy over all prototypes + gamma * cross-modal triplet (SCING), or
CLIP-ReID's 0.25 * ID + triplet + image-to-text CE.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.data import DataLoader

from scing_core.data.loaders import build_train_loader
from scing_core.engine.checkpoint import epoch_seed
from scing_core.engine.context import TrainContext
from scing_core.engine.distributed import wrap
from scing_core.engine.schedule import build_optimizer
from scing_core.losses import Stage2Loss


class TrainForward(nn.Module):
    """``forward_train`` as a module forward, so DDP can synchronise the image encoder's gradients."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, images, cams):
        return self.model.forward_train(images, cams)


class ImageStage:
    index = 2
    name = "image encoder"

    def __init__(self, ctx: TrainContext, prototypes: torch.Tensor) -> None:
        self.ctx, self.cfg = ctx, ctx.cfg.stage2
        model = ctx.model
        model.set_stage(2)
        model.train()
        self._batches_per_epoch = len(self._loader(0))
        self.forward = wrap(TrainForward(model), ctx.dist, ctx.device)
        named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        self.optimizer = build_optimizer(named, self.cfg)
        self.loss = Stage2Loss(ctx.cfg.loss)
        self.prototypes = prototypes.to(ctx.device).clone()  # a normal tensor (stage 1 made it in inference mode)
        use_scaler = ctx.amp_dtype == torch.float16
        self.scaler = torch.amp.GradScaler("cuda", enabled=use_scaler)

    def _loader(self, epoch: int) -> DataLoader:
        ctx = self.ctx
        return build_train_loader(ctx.dataset.train, ctx.cfg, epoch_seed(ctx.cfg.seed, 2, epoch),
                                  rank=ctx.dist.rank, world_size=ctx.dist.world_size)

    @property
    def steps_per_epoch(self) -> int:
        n = self._batches_per_epoch
        return min(n, self.cfg.steps_per_epoch) if self.cfg.steps_per_epoch > 0 else n

    def epoch_batches(self, epoch: int, skip: int = 0) -> DataLoader:
        """This epoch's PK batches (augmentations seeded per item), minus the first ``skip``."""
        loader = self._loader(epoch)
        keys = list(loader.batch_sampler)[: self.steps_per_epoch][skip:]
        return DataLoader(loader.dataset, batch_sampler=keys, num_workers=loader.num_workers,
                          collate_fn=loader.collate_fn, pin_memory=loader.pin_memory,
                          worker_init_fn=loader.worker_init_fn, generator=loader.generator)

    def train_step(self, batch) -> dict | None:
        if batch is None:
            return None
        ctx = self.ctx
        images, pids, camids, _ = batch
        images = images.to(ctx.device, non_blocking=True)
        labels = pids.to(ctx.device)
        cams = camids.to(ctx.device) if ctx.cfg.model.sie else None
        ctx.model.train()
        with ctx.autocast():
            out = self.forward(images, cams)
            total, parts = self.loss(out, labels, self.prototypes, ctx.model.logit_scale)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(total).backward()
        if self.cfg.grad_clip > 0:
            self.scaler.unscale_(self.optimizer)
            params = [p for g in self.optimizer.param_groups for p in g["params"]]
            torch.nn.utils.clip_grad_norm_(params, self.cfg.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return parts

    def finish(self) -> None:
        pass

    def state_dict(self) -> dict:
        return {"optimizer": self.optimizer.state_dict(), "scaler": self.scaler.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        if state.get("optimizer"):
            self.optimizer.load_state_dict(state["optimizer"])
        if state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
