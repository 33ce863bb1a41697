"""Checks across the resolved config that a single field's type cannot express.

``check_config`` runs on every resolved or loaded config: a value outside its choices, or settings
that contradict each other, fail here as one ConfigError naming the key, before any work starts.
"""

from __future__ import annotations

import re

from scing_core.config.schema import TrainConfig
from scing_core.errors import ConfigError

DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")

TRIPLET_FEATURES = ("penultimate", "pre_proj", "proj")   # loss.triplet_features: any distinct subset
STAGE2_WEIGHTS = ("w_i2t_ce", "w_xm_triplet", "w_id", "w_triplet")   # the stage-2 loss terms' weights

# key -> (rule as a function of the value, the allowed range in words); stage keys for both stages.
# Every numeric key of the schema has one (tests/core/test_bad_inputs.py generates a bad value for each).
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
    "data.val_ids": (lambda v: v >= 0, ">= 0 (0 = no validation split)"),
    "data.mean": (lambda v: len(v) == 3, "three numbers (R, G, B)"),
    "data.std": (lambda v: len(v) == 3 and min(v) > 0, "three numbers > 0 (R, G, B)"),
    "model.n_ctx": (lambda v: v >= 1, ">= 1"),
    "model.n_cond": (lambda v: v >= 1, ">= 1 (and <= model.n_ctx)"),
    "model.ctx_init_std": (lambda v: v >= 0, ">= 0"),
    "model.stride": (lambda v: v >= 1, ">= 1"),
    "model.sie_coef": (lambda v: v >= 0, ">= 0"),
    "perturb.views_per_image": (lambda v: v >= 0, ">= 0"),
    "perturb.refresh_every": (lambda v: v >= 0, ">= 0 epochs (0 = one bank of views)"),
    "perturb.feature_dropout": (lambda v: 0 <= v < 1, "in [0, 1)"),
    "loss.temperature": (lambda v: v > 0, "> 0"),
    "loss.lambda_con": (lambda v: v >= 0, ">= 0 (0 turns PDCA off)"),
    **{f"loss.{key}": (lambda v: v >= 0, ">= 0 (0 skips the term)") for key in STAGE2_WEIGHTS},
    "loss.xm_margin": (lambda v: v >= 0, ">= 0"),
    "loss.triplet_margin": (lambda v: v >= 0, ">= 0"),
    "loss.label_smoothing": (lambda v: 0 <= v < 1, "in [0, 1)"),
    "loss.i2t_logit_scale": (lambda v: v >= 0, ">= 0 (0 = the CLIP model's scale)"),
    "loss.triplet_features": (lambda v: bool(v) and set(v) <= set(TRIPLET_FEATURES) and len(set(v)) == len(v),
                              "a non-empty list of distinct names from " + ", ".join(TRIPLET_FEATURES)),
    **{f"{section}.{key}": (lambda v: 0 <= v <= 1, "a probability in [0, 1]")
       for section in ("data", "perturb") for key in ("flip_p", "crop_p", "erase_p")},
    "perturb.occlude_p": (lambda v: 0 <= v <= 1, "a probability in [0, 1]"),
}

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
    "eval_precision": ("fp32", "amp"),
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
    _check_combinations(cfg)
    return cfg


def check_stage2_weights(loss) -> None:
    """Stage 2 needs at least one loss term (``loss``: a LossConfig)."""
    if all(getattr(loss, key) == 0 for key in STAGE2_WEIGHTS):
        raise ConfigError("every stage-2 loss weight is 0 (" + ", ".join(f"loss.{key}" for key in STAGE2_WEIGHTS)
                          + "): nothing would train; set at least one, e.g. loss.w_i2t_ce=1")


def _check_combinations(cfg: TrainConfig) -> None:
    """Settings that are each in range but contradict each other."""
    if cfg.model.method == "scing" and cfg.model.n_cond > cfg.model.n_ctx:
        raise ConfigError(f"model.n_cond = {cfg.model.n_cond} must be <= model.n_ctx = {cfg.model.n_ctx} (the visual "
                          "condition goes into the first n_cond of the n_ctx tokens)")
    check_stage2_weights(cfg.loss)
    if cfg.loss.lambda_con > 0 and cfg.perturb.views_per_image < 2:
        raise ConfigError(f"PDCA (loss.lambda_con = {cfg.loss.lambda_con}) compares two perturbed views per image but "
                          f"perturb.views_per_image = {cfg.perturb.views_per_image}; set it to 2 or more, or "
                          "loss.lambda_con=0")
    if cfg.model_selection == "val" and cfg.data.val_ids < 1:
        raise ConfigError("model_selection=val needs a validation split: set data.val_ids=N (training identities to "
                          "hold out, e.g. 50), or choose model_selection=final")

