"""Learning-rate schedules as a pure function of the epoch (nothing to restore on resume)."""

from __future__ import annotations

import math

import torch

from scing_core.config import StageConfig
from scing_core.errors import ConfigError


def lr_factor(cfg: StageConfig, epoch: int) -> float:
    """Multiplier of ``cfg.lr`` for 0-based ``epoch``, as CLIP-ReID's schedulers give it.

    CLIP-ReID steps its scheduler at the start of every epoch, so epoch ``e`` (0-based) runs at
    ``t = e + 1``. Warm-up: ``warmup_factor + (1 - warmup_factor) * t / warmup_epochs`` while
    ``t < warmup_epochs`` (``WarmupMultiStepLR``, and timm's ``CosineLRScheduler`` with
    ``warmup_lr_init = warmup_factor * lr``). Then ``multistep``: ``gamma ** #{milestones <= t}``
    (times the warm-up factor); ``cosine`` (timm, warm-up not a prefix):
    ``floor + (1 - floor) * (1 + cos(pi * t / epochs)) / 2`` with ``floor = min_lr / lr``, the floor
    itself from ``t = epochs`` on; ``constant``: 1.
    """
    t = epoch + 1
    warm = 1.0
    if cfg.warmup_epochs > 0 and t < cfg.warmup_epochs:
        warm = cfg.warmup_factor + (1 - cfg.warmup_factor) * t / cfg.warmup_epochs
    if cfg.scheduler == "multistep":
        return warm * cfg.gamma ** sum(t >= m for m in cfg.milestones)
    if cfg.scheduler == "cosine":
        if t < cfg.warmup_epochs:
            return warm
        floor = cfg.min_lr / cfg.lr if cfg.lr > 0 else 0.0
        if t >= cfg.epochs:
            return floor
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * t / cfg.epochs))
    if cfg.scheduler == "constant":
        return warm
    raise ConfigError(f"unknown scheduler '{cfg.scheduler}'; use multistep, cosine or constant")


def build_optimizer(params: list[tuple[str, torch.nn.Parameter]], cfg: StageConfig) -> torch.optim.Optimizer:
    """Adam/AdamW/SGD over named parameters, one group each. CLIP-ReID's rule: every parameter whose
    name contains "bias" (attention ``in_proj_bias`` included) gets ``bias_lr_factor`` x lr; all
    keep ``weight_decay`` (CLIP-ReID's WEIGHT_DECAY_BIAS equals its WEIGHT_DECAY)."""
    groups = []
    for name, p in params:
        is_bias = "bias" in name
        lr = cfg.lr * (cfg.bias_lr_factor if is_bias else 1.0)
        groups.append({"params": [p], "lr": lr, "initial_lr": lr, "weight_decay": cfg.weight_decay})
    if not groups:
        raise ConfigError("nothing to train in this stage: no parameter requires a gradient")
    if cfg.optimizer == "adam":
        return torch.optim.Adam(groups, lr=cfg.lr)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=cfg.lr)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=cfg.lr, momentum=0.9)
    raise ConfigError(f"unknown optimizer '{cfg.optimizer}'; use adam, adamw or sgd")


def set_epoch_lr(optimizer: torch.optim.Optimizer, cfg: StageConfig, epoch: int) -> float:
    factor = lr_factor(cfg, epoch)
    for group in optimizer.param_groups:
        group["lr"] = group["initial_lr"] * factor
    return cfg.lr * factor
