"""Configuration schema and YAML io (defaults < preset < key=value overrides)."""

from scing_core.config.schema import (
    DataConfig,
    LossConfig,
    ModelConfig,
    PerturbConfig,
    StageConfig,
    TrainConfig,
)
from scing_core.config.io import (
    dump_yaml,
    list_presets,
    load_config,
    resolve_config,
    save_config,
    to_dict,
    valid_keys,
)

__all__ = ["DataConfig", "LossConfig", "ModelConfig", "PerturbConfig", "StageConfig", "TrainConfig", "dump_yaml", "list_presets",
           "load_config", "resolve_config", "save_config", "to_dict", "valid_keys"]
