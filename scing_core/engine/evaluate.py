"""Evaluate a model on a dataset's query/gallery splits, optionally writing the eval artefacts."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import torch

from scing_core.config import TrainConfig
from scing_core.data import ReIDDataset, load_dataset
from scing_core.data.loaders import build_test_loader
from scing_core.errors import ConfigError
from scing_core.evaluation import evaluate_features, extract_features, save_eval_artifacts

log = logging.getLogger(__name__)


@dataclass
class EvalOutcome:
    dataset: str
    metrics: dict
    out_dir: Path | None


def metrics_of(result) -> dict:
    cmc = result.cmc
    pick = lambda k: float(cmc[k - 1]) if len(cmc) >= k else float(cmc[-1])  # noqa: E731
    return {"mAP": float(result.mAP), "R1": pick(1), "R5": pick(5), "R10": pick(10), "num_valid": int(result.num_valid)}


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


def evaluate_model(
    model, dataset: ReIDDataset, cfg: TrainConfig, device: torch.device, out_dir=None,
    flip: bool = False, rerank: bool = False, progress: bool = False, label: str | None = None,
) -> EvalOutcome:
    """Extract query/gallery features, rank, and (if ``out_dir``) save the artefacts."""
    was_training = model.training
    model.eval()
    try:
        amp = device.type == "cuda" and cfg.amp != "off"
        query = extract_features(model, build_test_loader(dataset.query, cfg), device=device, flip=flip, amp=amp, progress=progress)
        gallery = extract_features(model, build_test_loader(dataset.gallery, cfg), device=device, flip=flip, amp=amp, progress=progress)
    finally:
        model.train(was_training)
    distmat, result = evaluate_features(query, gallery, rerank=rerank)
    metrics = metrics_of(result)
    metrics.update(num_query=len(query.pids), num_gallery=len(gallery.pids), flip=flip, rerank=rerank)
    if out_dir is not None:
        save_eval_artifacts(out_dir, query, gallery, distmat, result, extra_metrics={"dataset": label or dataset.name, "flip": flip, "rerank": rerank})
    return EvalOutcome(label or dataset.name, metrics, Path(out_dir) if out_dir else None)
