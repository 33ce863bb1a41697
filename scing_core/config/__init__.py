"""Configuration schema and YAML io (defaults < preset < key=value overrides)."""

from scing_core.config.schema import (
    DataConfig,
    LossConfig,
    ModelConfig,
    PerturbConfig,
    StageConfig,
    TrainConfig,
)

__all__ = ["DataConfig", "LossConfig", "ModelConfig", "PerturbConfig", "StageConfig", "TrainConfig"]
