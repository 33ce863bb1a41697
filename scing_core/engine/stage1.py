"""Stage 1: learn the prompts (and SVIP / meta-net) on cached image features, then the prototypes.

Loss = SupCon(image->text) + SupCon(text->image) + lambda * L_con (PDCA: two perturbed views per image,
feature dropout applied on the fly). Only the prompt learner trains; the image encoder never runs here.
"""

from __future__ import annotations

import torch
from torch import nn

from scing_core.data.perturbations import feature_dropout
from scing_core.data.samplers import PKSampler
from scing_core.engine.context import TrainContext
from scing_core.engine.distributed import wrap
from scing_core.engine.feature_cache import build_feature_cache
from scing_core.engine.schedule import build_optimizer
from scing_core.losses import Stage1Loss
from scing_core.models import ImageFeatures


class TextForward(nn.Module):
    """``encode_text`` as a module forward, so DDP can synchronise the prompt learner's gradients."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, labels, pre_proj, proj):
        cond = ImageFeatures(pre_proj, proj) if pre_proj is not None else None
        return self.model.encode_text(labels, cond)


class PromptStage:
    index = 1
    name = "prompt learning"

    def __init__(self, ctx: TrainContext, cache=None) -> None:
        """``cache`` (a FeatureCache) defaults to the run's, computed or loaded from the run directory."""
        self.ctx, self.cfg = ctx, ctx.cfg.stage1
        model = ctx.model
        model.set_stage(1)
        model.train()
        self.cache = (cache if cache is not None else build_feature_cache(ctx)).to(ctx.device)
        data = ctx.cfg.data
        self.sampler = PKSampler(self.cache.labels.tolist(), data.ids_per_batch, data.instances_per_id,
                                 seed=ctx.cfg.seed, rank=ctx.dist.rank, world_size=ctx.dist.world_size)
        self.text_forward = wrap(TextForward(model), ctx.dist, ctx.device)
        named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        self.optimizer = build_optimizer(named, self.cfg)
        self.loss = Stage1Loss(ctx.cfg.loss)
        self.use_views = model.uses_condition and ctx.cfg.loss.lambda_con > 0 and self.cache.view_proj.shape[1] >= 2
        self.prototypes: torch.Tensor | None = None

    @property
    def steps_per_epoch(self) -> int:
        n = len(self.sampler)
        return min(n, self.cfg.steps_per_epoch) if self.cfg.steps_per_epoch > 0 else n

    def epoch_batches(self, epoch: int, skip: int = 0) -> list[list[int]]:
        self.sampler.set_epoch(epoch)
        return list(self.sampler)[: self.steps_per_epoch][skip:]

    def _view_features(self, idx: torch.Tensor) -> tuple[ImageFeatures, ImageFeatures]:
        """Two distinct perturbed views per image, with feature dropout (PDCA's T at feature level)."""
        n_views = self.cache.view_proj.shape[1]
        first = torch.randint(n_views, (len(idx),), device=idx.device)
        second = (first + torch.randint(1, n_views, (len(idx),), device=idx.device)) % n_views
        p = self.ctx.cfg.perturb.feature_dropout
        views = []
        for choice in (first, second):
            pre = feature_dropout(self.cache.view_pre_proj[idx, choice], p)
            proj = feature_dropout(self.cache.view_proj[idx, choice], p)
            views.append(ImageFeatures(pre, proj))
        return views[0], views[1]

    def train_step(self, batch: list[int]) -> dict:
        ctx = self.ctx
        idx = torch.as_tensor(batch, device=ctx.device)
        labels = self.cache.labels[idx]
        feats = ImageFeatures(self.cache.pre_proj[idx], self.cache.proj[idx])
        conditional = ctx.model.uses_condition
        with ctx.autocast():
            if self.use_views:
                v1, v2 = self._view_features(idx)
                pre = torch.cat([feats.pre_proj, v1.pre_proj, v2.pre_proj])
                proj = torch.cat([feats.proj, v1.proj, v2.proj])
                texts = self.text_forward(labels.repeat(3), pre, proj).float().chunk(3)
                text, views = texts[0], list(texts[1:])
            else:
                text = self.text_forward(labels, feats.pre_proj if conditional else None,
                                         feats.proj if conditional else None).float()
                views = None
            total, parts = self.loss(feats.proj.float(), text, labels, views, ctx.model.logit_scale)
        self.optimizer.zero_grad(set_to_none=True)
        total.backward()
        if self.cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_([p for g in self.optimizer.param_groups for p in g["params"]], self.cfg.grad_clip)
        self.optimizer.step()
        return parts

    def finish(self) -> None:
        self.prototypes = compute_prototypes(self.ctx, self.cache)

    def state_dict(self) -> dict:
        return {"optimizer": self.optimizer.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        if state.get("optimizer"):
            self.optimizer.load_state_dict(state["optimizer"])


@torch.inference_mode()
def compute_prototypes(ctx: TrainContext, cache, batch_size: int = 256) -> torch.Tensor:
    """Class text prototypes [C, E], L2-normalised.

    ``conditioned`` (default): mean of each identity's conditioned text features over its training
    images. ``unconditioned``: the identity's bare learned prompt, without any visual condition (for
    clipreid both are the same).
    """
    model = ctx.model
    num_classes = model.num_classes
    labels = cache.labels
    if not model.uses_condition or ctx.cfg.prototypes == "unconditioned":
        classes = torch.arange(num_classes, device=labels.device)
        return nn.functional.normalize(model.encode_text_unconditioned(classes).float(), dim=-1)
    sums = None
    for start in range(0, len(labels), batch_size):
        sl = slice(start, start + batch_size)
        text = model.encode_text(labels[sl], ImageFeatures(cache.pre_proj[sl], cache.proj[sl])).float()
        text = nn.functional.normalize(text, dim=-1)
        if sums is None:
            sums = torch.zeros(num_classes, text.shape[1], device=text.device)
        sums.index_add_(0, labels[sl], text)
    return nn.functional.normalize(sums, dim=-1)
