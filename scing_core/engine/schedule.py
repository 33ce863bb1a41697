"""Learning-rate schedules as a pure function of the epoch (nothing to restore on resume)."""

from __future__ import annotations

import math

import torch

from scing_core.config import StageConfig
from scing_core.errors import ConfigError


def lr_factor(cfg: StageConfig, epoch: int) -> float:
    """Multiplier of ``cfg.lr`` for 0-based ``epoch``: linear warm-up, then multistep / cosine / constant."""
    if cfg.warmup_epochs > 0 and epoch < cfg.warmup_epochs:
        alpha = epoch / cfg.warmup_epochs
        warm = cfg.warmup_factor * (1 - alpha) + alpha
    else:
        warm = 1.0
    if cfg.scheduler == "multistep":
        return warm * cfg.gamma ** sum(epoch >= m for m in cfg.milestones)
    if cfg.scheduler == "cosine":
        if epoch < cfg.warmup_epochs:
            return warm
        span = max(1, cfg.epochs - cfg.warmup_epochs)
        t = (epoch - cfg.warmup_epochs) / span
        floor = cfg.min_lr / cfg.lr if cfg.lr > 0 else 0.0
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * t))
    if cfg.scheduler == "constant":
        return warm
    raise ConfigError(f"unknown scheduler '{cfg.scheduler}'; use multistep, cosine or constant")


def build_optimizer(params: list[tuple[str, torch.nn.Parameter]], cfg: StageConfig) -> torch.optim.Optimizer:
    """Adam/AdamW/SGD over named parameters; biases get ``bias_lr_factor`` x lr and no weight decay
    only when that factor differs from 1 (CLIP-ReID's convention)."""
    groups = []
    for name, p in params:
        is_bias = name.endswith(".bias")
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
