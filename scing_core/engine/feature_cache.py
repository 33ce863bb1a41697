"""Stage 1's frozen-image-encoder cache: every training image encoded once (original view) plus a bank
of PDCA-perturbed views, so prompt learning never runs the image encoder again.

Feature-level perturbation (dropout on the view's backbone feature) is applied on the fly, per step.
The cache is saved in the run directory so a resumed stage 1 does not re-encode.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch

from scing_core.data.loaders import build_view_loader
from scing_core.data.perturbations import build_perturbation
from scing_core.data.transforms import build_test_transform
from scing_core.engine.checkpoint import epoch_seed, save_checkpoint, seed_everything
from scing_core.engine.context import TrainContext
from scing_core.engine.distributed import barrier

log = logging.getLogger(__name__)


@dataclass
class FeatureCache:
    pre_proj: torch.Tensor       # [N, D] original views, CLS before projection
    proj: torch.Tensor           # [N, E] original views, projected
    view_pre_proj: torch.Tensor  # [N, V, D] perturbed views
    view_proj: torch.Tensor      # [N, V, E]
    labels: torch.Tensor         # [N] training pids (0..C-1)
    cams: torch.Tensor           # [N]

    def to(self, device) -> "FeatureCache":
        return FeatureCache(*(getattr(self, f).to(device) for f in self.__dataclass_fields__))

    def state(self) -> dict:
        return {f: getattr(self, f) for f in self.__dataclass_fields__}


@torch.inference_mode()
def _encode(ctx: TrainContext, transform, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    cfg = ctx.cfg
    loader = build_view_loader(ctx.dataset.train, cfg, transform, cfg.data.test_batch_size, seed)
    pre, proj = torch.zeros(0), torch.zeros(0)
    chunks_pre, chunks_proj = [], []
    for batch in loader:
        if batch is None:
            continue
        images, _, cams, _ = batch
        images = images.to(ctx.device, non_blocking=True)
        cams = cams.to(ctx.device) if cfg.model.sie else None
        with ctx.autocast():
            feats = ctx.model.encode_image(images, cams)
        chunks_pre.append(feats.pre_proj.float().cpu())
        chunks_proj.append(feats.proj.float().cpu())
    if chunks_pre:
        pre, proj = torch.cat(chunks_pre), torch.cat(chunks_proj)
    if len(pre) != len(ctx.dataset.train):
        from scing_core.errors import DatasetError

        raise DatasetError(
            f"stage 1 could read only {len(pre)} of {len(ctx.dataset.train)} training images; "
            "run `scing data check` on the dataset and remove or fix the unreadable files"
        )
    return pre, proj


def _compute(ctx: TrainContext) -> FeatureCache:
    cfg = ctx.cfg
    was_training = ctx.model.training
    ctx.model.eval()
    seed_everything(epoch_seed(cfg.seed, 1, -1))
    pre, proj = _encode(ctx, build_test_transform(cfg.data), seed=cfg.seed)
    occluders = [s.path for s in ctx.dataset.train]
    perturb = build_perturbation(cfg.perturb, cfg.data, occluder_source=occluders)
    views_pre, views_proj = [], []
    for v in range(max(cfg.perturb.views_per_image, 0)):
        log.info("stage 1 cache: perturbed view %d/%d", v + 1, cfg.perturb.views_per_image)
        seed_everything(epoch_seed(cfg.seed, 1, -(v + 2)))
        vp, vq = _encode(ctx, perturb, seed=cfg.seed + v + 1)
        views_pre.append(vp)
        views_proj.append(vq)
    ctx.model.train(was_training)
    n = len(pre)
    stack = lambda xs, dim: torch.stack(xs, 1) if xs else torch.zeros(n, 0, dim)  # noqa: E731
    labels = torch.tensor([s.pid for s in ctx.dataset.train], dtype=torch.long)
    cams = torch.tensor([s.camid for s in ctx.dataset.train], dtype=torch.long)
    return FeatureCache(pre, proj, stack(views_pre, pre.shape[1]), stack(views_proj, proj.shape[1]), labels, cams)


def build_feature_cache(ctx: TrainContext) -> FeatureCache:
    """Load the run's cache, or compute it on rank 0 (other ranks wait, then load)."""
    path = ctx.run.cache / "stage1_features.pt"
    if ctx.dist.is_main and not path.exists():
        cache = _compute(ctx)
        save_checkpoint({"model": {}, **cache.state()}, path)
    barrier(ctx.dist)
    state = torch.load(path, map_location="cpu", weights_only=True)
    cache = FeatureCache(*(state[f] for f in FeatureCache.__dataclass_fields__))
    if len(cache.labels) != len(ctx.dataset.train):
        log.warning("stage 1 cache at %s does not match the dataset; recomputing", path)
        path.unlink()
        return build_feature_cache(ctx)
    return cache
