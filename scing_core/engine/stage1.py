"""Stage 1: learn the prompts (and SVIP / meta-net) on cached image features, then the prototypes.

Loss = SupCon(image->text) + SupCon(text->image) + lambda * L_con. PDCA (``loss.lambda_con > 0``,
conditional methods only): each step compares the text features of an image's original view with
those of two distinct views of the current bank (``feature_cache.ViewBank``), the bank drawn anew
every ``perturb.refresh_every`` epochs and PDCA's feature dropout applied per step. Without PDCA no
perturbed view is encoded. Only the prompt learner trains; the image encoder runs only to encode.
Batches: P x K identities (``stage1.batching: pk``) or CLIP-ReID's shuffled batches (``shuffle``).
"""

from __future__ import annotations

import torch
from torch import nn

from scing_core.data.samplers import PKSampler, ShuffleBatches
from scing_core.engine.context import TrainContext
from scing_core.engine.distributed import wrap
from scing_core.engine.feature_cache import ViewBank, build_feature_cache, encode_view_bank
from scing_core.engine.schedule import build_optimizer
from scing_core.errors import ConfigError
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


def check_pdca(cfg, model) -> bool:
    """Whether stage 1 runs PDCA; a ConfigError when ``loss.lambda_con > 0`` cannot be honoured."""
    if cfg.loss.lambda_con <= 0:
        return False
    if not model.uses_condition:
        raise ConfigError(
            f"loss.lambda_con={cfg.loss.lambda_con} asks for PDCA, but method '{cfg.model.method}' does not condition "
            "its prompts on the image; use model.method=scing (or cocoop), or set loss.lambda_con=0")
    if cfg.perturb.views_per_image < 2:
        raise ConfigError(
            f"PDCA compares two perturbed views per image but perturb.views_per_image={cfg.perturb.views_per_image}; "
            "set perturb.views_per_image=2 or more, or loss.lambda_con=0")
    return True


def build_stage1_sampler(cfg, labels: list[int], rank: int, world_size: int):
    """The stage-1 batch sampler per ``stage1.batching`` (``pk`` or ``shuffle``)."""
    data = cfg.data
    if cfg.stage1.batching == "shuffle":
        return ShuffleBatches(len(labels), data.ids_per_batch * data.instances_per_id, seed=cfg.seed,
                              rank=rank, world_size=world_size)
    return PKSampler(labels, data.ids_per_batch, data.instances_per_id, seed=cfg.seed, rank=rank,
                     world_size=world_size)


class PromptStage:
    index = 1
    name = "prompt learning"

    def __init__(self, ctx: TrainContext, cache=None) -> None:
        """``cache`` (a FeatureCache) defaults to the run's, computed or loaded from the run directory."""
        self.ctx, self.cfg = ctx, ctx.cfg.stage1
        model = ctx.model
        model.set_stage(1)
        model.train()
        self.use_views = check_pdca(ctx.cfg, model)
        self.cache = (cache if cache is not None else build_feature_cache(ctx)).to(ctx.device)
        self.bank: ViewBank | None = None
        self.sampler = build_stage1_sampler(ctx.cfg, self.cache.labels.tolist(), ctx.dist.rank, ctx.dist.world_size)
        self.text_forward = wrap(TextForward(model), ctx.dist, ctx.device)
        named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        self.optimizer = build_optimizer(named, self.cfg)
        self.loss = Stage1Loss(ctx.cfg.loss)
        self.prototypes: torch.Tensor | None = None
        self.raw_prototypes: torch.Tensor | None = None

    @property
    def steps_per_epoch(self) -> int:
        n = len(self.sampler)
        return min(n, self.cfg.steps_per_epoch) if self.cfg.steps_per_epoch > 0 else n

    def bank_period(self, epoch: int) -> int:
        """The view bank epoch ``epoch`` uses: ``epoch // perturb.refresh_every`` (0 = never refreshed)."""
        every = self.ctx.cfg.perturb.refresh_every
        return epoch // every if every > 0 else 0

    def epoch_batches(self, epoch: int, skip: int = 0) -> list[list[int]]:
        """This epoch's batches (minus the first ``skip``); with PDCA, draws the epoch's view bank first."""
        if self.use_views and (self.bank is None or self.bank.period != self.bank_period(epoch)):
            self.bank = None  # free the old bank before encoding the next
            self.bank = encode_view_bank(self.ctx, self.bank_period(epoch))
        self.sampler.set_epoch(epoch)
        return list(self.sampler)[: self.steps_per_epoch][skip:]

    def _view_features(self, idx: torch.Tensor) -> tuple[ImageFeatures, ImageFeatures]:
        """Two distinct perturbed views per image from the bank, with PDCA's feature dropout."""
        n_views = self.bank.views
        first = torch.randint(n_views, (len(idx),), device=idx.device)
        second = (first + torch.randint(1, n_views, (len(idx),), device=idx.device)) % n_views
        p = self.ctx.cfg.perturb.feature_dropout
        return self.bank.features(self.ctx.model, idx, first, p), self.bank.features(self.ctx.model, idx, second, p)

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
        self.bank = None
        self.prototypes = compute_prototypes(self.ctx, self.cache)
        if self.ctx.cfg.loss.i2t_similarity == "dot":  # stage 2 needs the text features' own norms
            self.raw_prototypes = compute_prototypes(self.ctx, self.cache, normalize=False)

    def state_dict(self) -> dict:
        return {"optimizer": self.optimizer.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        if state.get("optimizer"):
            self.optimizer.load_state_dict(state["optimizer"])


@torch.inference_mode()
def compute_prototypes(ctx: TrainContext, cache, batch_size: int = 256, normalize: bool = True) -> torch.Tensor:
    """Class text prototypes [C, E], L2-normalised unless ``normalize=False``.

    ``conditioned`` (default): mean of each identity's conditioned text features over its training
    images (each L2-normalised first when ``normalize``, raw otherwise). ``unconditioned``: the
    identity's bare learned prompt, without any visual condition (for clipreid both are the same;
    unnormalised it is exactly CLIP-ReID's text feature, which its stage-2 logits use).
    """
    model = ctx.model
    num_classes = model.num_classes
    labels = cache.labels
    unit = (lambda x: nn.functional.normalize(x, dim=-1)) if normalize else (lambda x: x)  # noqa: E731
    if not model.uses_condition or ctx.cfg.prototypes == "unconditioned":
        classes = torch.arange(num_classes, device=labels.device)
        return unit(model.encode_text_unconditioned(classes).float())
    sums = None
    for start in range(0, len(labels), batch_size):
        sl = slice(start, start + batch_size)
        text = unit(model.encode_text(labels[sl], ImageFeatures(cache.pre_proj[sl], cache.proj[sl])).float())
        if sums is None:
            sums = torch.zeros(num_classes, text.shape[1], device=text.device)
        sums.index_add_(0, labels[sl], text)
    counts = torch.bincount(labels, minlength=num_classes).clamp_min(1).to(sums.dtype)[:, None]
    return unit(sums / counts)
