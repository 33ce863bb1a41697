"""Checks across the resolved config that a single field's type cannot express.

``check_config`` runs on every resolved or loaded config: a value outside its choices, or settings
that contradict each other, fail here as one ConfigError naming the key, before any work starts.
"""

from __future__ import annotations

from scing_core.config.schema import TrainConfig
from scing_core.errors import ConfigError

CHOICES: dict[str, tuple[str, ...]] = {
    "model_selection": ("final", "test", "val"),
    "stage1.batching": ("pk", "shuffle"),
    "stage2.batching": ("pk",),
    "data.erase_mode": ("pixel", "mean"),
    "loss.supcon_similarity": ("cosine", "dot"),
    "loss.i2t_similarity": ("cosine", "dot"),
    "model.test_feature": ("concat", "proj", "pre_proj"),
}


def _value(cfg: TrainConfig, dotted: str):
    node = cfg
    for part in dotted.split("."):
        node = getattr(node, part)
    return node


def check_config(cfg: TrainConfig) -> TrainConfig:
    """Return ``cfg`` unchanged, or raise a ConfigError for the first inconsistent setting."""
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
