"""The datasets a config names: its training dataset (with the loader options the config sets) and
its test datasets (``data.test_datasets`` entries ``name`` or ``name@root``)."""

from __future__ import annotations

from pathlib import Path

from scing_core.config import TrainConfig
from scing_core.data import ReIDDataset, load_dataset
from scing_core.errors import ConfigError


def load_configured_dataset(name: str, root, data_cfg) -> ReIDDataset:
    """``load_dataset`` with the options the config sets for that benchmark (MSMT17's val split)."""
    options = {"use_val": data_cfg.msmt_use_val} if name.lower() == "msmt17" else {}
    return load_dataset(name, root, **options)


def test_datasets(cfg: TrainConfig, train_dataset: ReIDDataset | None = None) -> list[tuple[str, ReIDDataset]]:
    """``(label, dataset)`` for each entry of ``data.test_datasets`` ("name" or "name@root"), or the
    training dataset when none is given."""
    if not cfg.data.test_datasets:
        ds = train_dataset or load_configured_dataset(cfg.data.dataset, cfg.data.root, cfg.data)
        return [(cfg.data.dataset, ds)]
    out = []
    for entry in cfg.data.test_datasets:
        name, _, root = entry.partition("@")
        if not name:
            raise ConfigError(f"data.test_datasets entry '{entry}' must be NAME or NAME@ROOT")
        out.append((name if not root else f"{name}@{Path(root).name}", load_configured_dataset(name, root or cfg.data.root, cfg.data)))
    return out


def training_cameras(cfg: TrainConfig, dataset: ReIDDataset) -> bool:
    """Whether ``dataset``'s camera ids are cameras the run trained with: its own training set's real
    cameras (its validation split included). Another dataset's test set (Occluded-REID after Market-1501)
    or ids that are not cameras are evaluated with unknown cameras (an SIE model adds its mean camera)."""
    return dataset.real_cameras and dataset.name in (cfg.data.dataset, f"{cfg.data.dataset}-val")
