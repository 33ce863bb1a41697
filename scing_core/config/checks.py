"""Checks across the resolved config that a single field's type cannot express.

``check_config`` runs on every resolved or loaded config: a value outside its choices, or settings
that contradict each other, fail here as one ConfigError naming the key, before any work starts.
"""

from __future__ import annotations

import re

from scing_core.config.schema import TrainConfig
from scing_core.errors import ConfigError

DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")

# key -> (rule as a function of the value, the allowed range in words); stage keys for both stages
_STAGE_RANGES = {
    "epochs": (lambda v: v >= 1, ">= 1"),
    "lr": (lambda v: v > 0, "> 0"),
    "weight_decay": (lambda v: v >= 0, ">= 0"),
    "gamma": (lambda v: 0 < v <= 1, "in (0, 1]"),
    "warmup_epochs": (lambda v: v >= 0, ">= 0"),
    "warmup_factor": (lambda v: 0 < v <= 1, "in (0, 1]"),
    "min_lr": (lambda v: v >= 0, ">= 0"),
    "bias_lr_factor": (lambda v: v > 0, "> 0"),
    "grad_clip": (lambda v: v >= 0, ">= 0 (0 = off)"),
    "steps_per_epoch": (lambda v: v >= 0, ">= 0 (0 = a full pass)"),
    "milestones": (lambda v: all(m >= 1 for m in v), "epochs >= 1"),
}
RANGES = {
    **{f"{stage}.{key}": rule for stage in ("stage1", "stage2") for key, rule in _STAGE_RANGES.items()},
    "seed": (lambda v: v >= 0, ">= 0"),
    "eval_every": (lambda v: v >= 1, ">= 1"),
    "checkpoint_every": (lambda v: v >= 1, ">= 1"),
    "log_every": (lambda v: v >= 0, ">= 0 (0 = no step events)"),
    "device": (lambda v: bool(DEVICE.match(v)), "auto, cpu, mps, cuda or cuda:N"),
    "data.image_size": (lambda v: len(v) == 2 and min(v) >= 1, "two positive integers (height, width)"),
    "data.ids_per_batch": (lambda v: v >= 2, ">= 2 (a batch needs negatives)"),
    "data.instances_per_id": (lambda v: v >= 1, ">= 1"),
    "data.test_batch_size": (lambda v: v >= 1, ">= 1"),
    "data.num_workers": (lambda v: v >= 0, ">= 0"),
    "data.pad": (lambda v: v >= 0, ">= 0"),
    "model.n_ctx": (lambda v: v >= 1, ">= 1"),
    "model.stride": (lambda v: v >= 1, ">= 1"),
    "model.sie_coef": (lambda v: v >= 0, ">= 0"),
    "perturb.views_per_image": (lambda v: v >= 0, ">= 0"),
    **{f"{section}.{key}": (lambda v: 0 <= v <= 1, "a probability in [0, 1]")
       for section in ("data", "perturb") for key in ("flip_p", "crop_p", "erase_p")},
    "perturb.occlude_p": (lambda v: 0 <= v <= 1, "a probability in [0, 1]"),
}

TRIPLET_FEATURES = ("penultimate", "pre_proj", "proj")   # loss.triplet_features: any distinct subset

# key -> its allowed values: the one list of each choice (models, losses and transforms use these)
CHOICES: dict[str, tuple[str, ...]] = {
    "model_selection": ("final", "test", "val"),
    "stage1.batching": ("pk", "shuffle"),
    "stage2.batching": ("pk",),
    "data.erase_mode": ("pixel", "mean"),
    "loss.supcon_similarity": ("cosine", "dot"),
    "loss.i2t_similarity": ("cosine", "dot"),
    "model.test_feature": ("concat", "proj", "pre_proj"),
    "model.neck_feat": ("before", "after"),
    "model.cond_source": ("pre_proj", "proj"),
    "model.activation": ("auto", "quick_gelu", "gelu"),
    "prototypes": ("conditioned", "unconditioned"),
    "amp": ("auto", "bf16", "fp16", "off"),
    **{f"{stage}.{key}": values for stage in ("stage1", "stage2")
       for key, values in (("optimizer", ("adam", "adamw", "sgd")), ("scheduler", ("multistep", "cosine", "constant")))},
}


def _value(cfg: TrainConfig, dotted: str):
    node = cfg
    for part in dotted.split("."):
        node = getattr(node, part)
    return node


def check_config(cfg: TrainConfig) -> TrainConfig:
    """Return ``cfg`` unchanged, or raise a ConfigError for the first inconsistent setting."""
    for key, (rule, allowed) in RANGES.items():
        value = _value(cfg, key)
        if not rule(value):
            shown = list(value) if isinstance(value, tuple) else value
            raise ConfigError(f"{key} = {shown!r} is out of range: it must be {allowed}; fix it in the preset or "
                              f"pass {key}=...")
    for key, allowed in CHOICES.items():
        value = _value(cfg, key)
        if value not in allowed:
            hint = " (stage 2 trains on P x K batches only)" if key == "stage2.batching" else ""
            raise ConfigError(f"{key} = {value!r} is not one of {', '.join(allowed)}{hint}; fix it in the preset or "
                              f"pass {key}=...")
    if cfg.model_selection == "val" and cfg.data.val_ids < 1:
        raise ConfigError("model_selection=val needs a validation split: set data.val_ids=N (training identities to "
                          "hold out, e.g. 50), or choose model_selection=final")
    if cfg.data.val_ids < 0:
        raise ConfigError(f"data.val_ids must be >= 0, got {cfg.data.val_ids}")
    if cfg.perturb.refresh_every < 0:
        raise ConfigError(f"perturb.refresh_every must be >= 0 epochs (0 = one bank of views), got "
                          f"{cfg.perturb.refresh_every}")
    if not 0.0 <= cfg.perturb.feature_dropout < 1.0:
        raise ConfigError(f"perturb.feature_dropout must be in [0, 1), got {cfg.perturb.feature_dropout}")
    return cfg
