"""Stage 2: fine-tune the image encoder (and heads) against the frozen class text prototypes.

Loss per the preset: cross-entropy over all prototypes + gamma * cross-modal triplet (SCING), or
CLIP-ReID's 0.25 * ID + triplet + image-to-text CE. One training loader serves every epoch; epoch
``e``'s batches and augmentations depend on ``(seed, 2, e)`` only.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn
from torch.utils.data import DataLoader

from scing_core.config import StageConfig
from scing_core.data.loaders import ConfiguredLoaders
from scing_core.engine.seeding import epoch_seed
from scing_core.engine.context import TrainContext
from scing_core.engine.distributed import wrap
from scing_core.engine.schedule import build_optimizer
from scing_core.engine.stage import Stage
from scing_core.losses import Stage2Loss


class TrainForward(nn.Module):
    """``forward_train`` as a module forward, so DDP can synchronise the image encoder's gradients."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, images, cams):
        return self.model.forward_train(images, cams)


class ImageStage(Stage):
    """Args: ``model`` the ReID model; ``loader`` the training loader (``EpochPKBatches`` batches);
    ``prototypes`` the frozen class text prototypes; ``forward`` the (DDP-wrapped) training forward;
    ``autocast`` the AMP context factory; ``device``; ``use_cams`` feed camera ids (SIE).
    :meth:`from_context` maps a run's config onto them."""

    index = 2
    name = "image encoder"

    def __init__(self, cfg: StageConfig, model, loader: DataLoader, prototypes: torch.Tensor, loss: Stage2Loss, *,
                 forward: nn.Module, autocast: Callable, device: torch.device, use_cams: bool, fp16: bool = False,
                 hooks: tuple = ()) -> None:
        model.set_stage(2)
        model.train()
        named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        super().__init__(cfg, build_optimizer(named, cfg), fp16)
        self.model, self.loader, self.criterion, self.forward = model, loader, loss, forward
        self.autocast, self.device, self.use_cams, self.hooks = autocast, device, use_cams, tuple(hooks)
        self.prototypes = prototypes.to(device).clone()  # a normal tensor (stage 1 made it in inference mode)
        self.epoch_length = loader.batch_sampler.full_length()  # epoch 0's PK batch count (see batches_in_epoch)

    @classmethod
    def from_context(cls, ctx: TrainContext, prototypes: torch.Tensor, hooks: tuple = ()) -> "ImageStage":
        cfg = ctx.cfg
        loader = ConfiguredLoaders(cfg).train(ctx.dataset.train, lambda epoch: epoch_seed(cfg.seed, 2, epoch),
                                              rank=ctx.dist.rank, world_size=ctx.dist.world_size)
        return cls(cfg.stage2, ctx.model, loader, prototypes, Stage2Loss(cfg.loss),
                   forward=wrap(TrainForward(ctx.model), ctx.dist, ctx.device), autocast=ctx.autocast,
                   device=ctx.device, use_cams=cfg.model.sie, fp16=ctx.amp_dtype == torch.float16, hooks=hooks)

    def batches_in_epoch(self) -> int:
        """Epoch 0's PK batch count, for every epoch: a PK pass's count varies a little from epoch to
        epoch, and every epoch runs at most the first one's (the published demo and study numbers were
        trained so; CLIP-ReID's loop runs each epoch's whole pass)."""
        return self.epoch_length

    def epoch_batches(self, epoch: int, skip: int = 0) -> DataLoader:
        """This epoch's PK batches (augmentations seeded per item, at most ``steps_per_epoch``), minus the
        first ``skip``."""
        self.loader.batch_sampler.set_epoch(epoch, skip=skip, limit=self.steps_per_epoch)
        return self.loader

    def loss(self, batch) -> tuple[torch.Tensor, dict] | None:
        if batch is None:
            return None
        images, pids, camids, _ = batch
        images = images.to(self.device, non_blocking=True)
        labels = pids.to(self.device)
        cams = camids.to(self.device) if self.use_cams else None
        self.model.train()
        with self.autocast():
            out = self.forward(images, cams)
            return self.criterion(out, labels, self.prototypes, self.model.logit_scale)
