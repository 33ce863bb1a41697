"""Stage 1: learn the prompts (and SVIP / meta-net) on cached image features, then the prototypes.

Loss = SupCon(image->text) + SupCon(text->image) + lambda * L_con, the last with PDCA only
(:mod:`scing_core.engine.pdca`: fresh perturbed view pairs, feature dropout). Only the prompt
learner trains; the image encoder runs only to encode. Batches: P x K identities
(``stage1.batching: pk``) or CLIP-ReID's shuffled batches (``shuffle``). The stage ends with the
class text prototypes stage 2 trains against (``artifacts``: ``prototypes.pt``).
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from scing_core.config import StageConfig
from scing_core.data.samplers import PKSampler, ShuffleBatches
from scing_core.engine.context import TrainContext
from scing_core.engine.distributed import wrap
from scing_core.engine.feature_cache import FeatureCache, build_feature_cache, encode_view_bank
from scing_core.engine.pdca import PdcaViews
from scing_core.engine.schedule import build_optimizer
from scing_core.engine.stage import Stage
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


def build_stage1_sampler(batching: str, labels: list[int], ids_per_batch: int, instances_per_id: int, seed: int,
                         rank: int = 0, world_size: int = 1):
    """The stage-1 batch sampler: ``pk`` (P x K identities) or CLIP-ReID's ``shuffle`` (P*K per batch)."""
    if batching == "shuffle":
        return ShuffleBatches(len(labels), ids_per_batch * instances_per_id, seed=seed, rank=rank, world_size=world_size)
    return PKSampler(labels, ids_per_batch, instances_per_id, seed=seed, rank=rank, world_size=world_size)


class PromptStage(Stage):
    """Args: ``model`` the ReID model; ``cache`` its original-view features of the training set;
    ``sampler`` batches of cache indices; ``text_forward`` the (DDP-wrapped) text encoder;
    ``autocast`` the AMP context factory; ``pdca`` the view source, None without PDCA;
    ``prototypes`` the prototype mode (``conditioned`` / ``unconditioned``); ``raw_prototypes`` also
    keep unnormalised prototypes (stage 2's dot-product logits). :meth:`from_context` maps a run's
    config onto them."""

    index = 1
    name = "prompt learning"
    end_checkpoint = "stage1"

    def __init__(self, cfg: StageConfig, model, cache: FeatureCache, sampler, loss: Stage1Loss, *,
                 text_forward: nn.Module, autocast: Callable, pdca: PdcaViews | None = None,
                 prototypes: str = "conditioned", raw_prototypes: bool = False, fp16: bool = False) -> None:
        model.set_stage(1)
        model.train()
        named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        super().__init__(cfg, build_optimizer(named, cfg), fp16)
        self.model, self.cache, self.sampler, self.criterion = model, cache, sampler, loss
        self.text_forward, self.autocast, self.pdca = text_forward, autocast, pdca
        self.prototype_mode, self.keep_raw = prototypes, raw_prototypes
        self.prototypes: torch.Tensor | None = None
        self.raw_prototypes: torch.Tensor | None = None

    @classmethod
    def from_context(cls, ctx: TrainContext, cache: FeatureCache | None = None) -> "PromptStage":
        """The stage ``ctx``'s config asks for; ``cache`` defaults to the run's (computed or loaded)."""
        cfg, data = ctx.cfg, ctx.cfg.data
        cache = (cache if cache is not None else build_feature_cache(ctx)).to(ctx.device)
        sampler = build_stage1_sampler(cfg.stage1.batching, cache.labels.tolist(), data.ids_per_batch,
                                       data.instances_per_id, cfg.seed, ctx.dist.rank, ctx.dist.world_size)
        pdca = PdcaViews(lambda period: encode_view_bank(ctx, period), cfg.perturb.refresh_every,
                         cfg.perturb.feature_dropout) if ctx.pdca else None
        return cls(cfg.stage1, ctx.model, cache, sampler, Stage1Loss(cfg.loss),
                   text_forward=wrap(TextForward(ctx.model), ctx.dist, ctx.device), autocast=ctx.autocast, pdca=pdca,
                   prototypes=cfg.prototypes, raw_prototypes=cfg.loss.i2t_similarity == "dot",
                   fp16=ctx.amp_dtype == torch.float16)

    @property
    def bank(self):
        """The current PDCA view bank (None without PDCA or before the first epoch)."""
        return self.pdca.bank if self.pdca is not None else None

    def batches_in_epoch(self) -> int:
        return len(self.sampler)

    def epoch_batches(self, epoch: int, skip: int = 0) -> list[list[int]]:
        """This epoch's batches (minus the first ``skip``); with PDCA, draws the epoch's view bank first."""
        if self.pdca is not None:
            self.pdca.start_epoch(epoch)
        self.sampler.set_epoch(epoch)
        return list(self.sampler)[: self.steps_per_epoch][skip:]

    def loss(self, batch: list[int]) -> tuple[torch.Tensor, dict]:
        model, cache = self.model, self.cache
        idx = torch.as_tensor(batch, device=cache.labels.device)
        labels = cache.labels[idx]
        feats = ImageFeatures(cache.pre_proj[idx], cache.proj[idx])
        conditional = model.uses_condition
        with self.autocast():
            if self.pdca is not None:
                v1, v2 = self.pdca.pair(model, idx)
                pre = torch.cat([feats.pre_proj, v1.pre_proj, v2.pre_proj])
                proj = torch.cat([feats.proj, v1.proj, v2.proj])
                texts = self.text_forward(labels.repeat(3), pre, proj).float().chunk(3)
                text, views = texts[0], list(texts[1:])
            else:
                text = self.text_forward(labels, feats.pre_proj if conditional else None,
                                         feats.proj if conditional else None).float()
                views = None
            return self.criterion(feats.proj.float(), text, labels, views, model.logit_scale)

    def finish(self) -> None:
        if self.pdca is not None:
            self.pdca.release()
        self.prototypes = compute_prototypes(self.model, self.cache, self.prototype_mode)
        if self.keep_raw:  # stage 2's dot-product logits need the text features' own norms
            self.raw_prototypes = compute_prototypes(self.model, self.cache, self.prototype_mode, normalize=False)

    def artifacts(self) -> dict[str, dict]:
        raw = {"raw": self.raw_prototypes.cpu()} if self.raw_prototypes is not None else {}
        return {"prototypes": {"model": {}, "prototypes": self.prototypes.cpu(), "mode": self.prototype_mode, **raw}}


@torch.inference_mode()
def compute_prototypes(model, cache: FeatureCache, mode: str = "conditioned", batch_size: int = 256,
                       normalize: bool = True) -> torch.Tensor:
    """Class text prototypes [C, E], L2-normalised unless ``normalize=False``.

    ``mode`` ``conditioned`` (default): mean of each identity's conditioned text features over its training
    images (each L2-normalised first when ``normalize``, raw otherwise). ``unconditioned``: the
    identity's bare learned prompt, without any visual condition (for clipreid both are the same;
    unnormalised it is exactly CLIP-ReID's text feature, which its stage-2 logits use).
    """
    num_classes = model.num_classes
    labels = cache.labels
    unit = (lambda x: nn.functional.normalize(x, dim=-1)) if normalize else (lambda x: x)  # noqa: E731
    if not model.uses_condition or mode == "unconditioned":
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
