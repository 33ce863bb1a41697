"""Evaluate a model on a dataset's query/gallery splits, optionally writing the eval artefacts."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import torch

from scing_core.config import TrainConfig
from scing_core.data import ReIDDataset
from scing_core.data.configured import training_cameras
from scing_core.data.loaders import ConfiguredLoaders
from scing_core.errors import DatasetError
from scing_core.evaluation import FeatureSet, Reranking, evaluate_features, evaluation_amp, extract_features, metrics_of, save_eval_artifacts

log = logging.getLogger(__name__)


@dataclass
class EvalOutcome:
    dataset: str
    metrics: dict
    out_dir: Path | None


DESCRIPTORS = ("concat", "proj", "pre_proj")


def _split_descriptors(features: FeatureSet, width: int) -> dict[str, FeatureSet]:
    """The ``concat`` descriptors [N, D + E] cut into each of :data:`DESCRIPTORS`."""
    parts = {"concat": features.features, "pre_proj": features.features[:, :width], "proj": features.features[:, width:]}
    return {name: FeatureSet(part, features.pids, features.camids, features.paths, features.skipped)
            for name, part in parts.items()}


def _extract(model, loaders, cfg, device, flip, progress, all_descriptors: bool,
             cameras: bool = True) -> list[dict[str, FeatureSet]]:
    """Features of each loader, keyed by descriptor: the model's own ``test_feature`` only, or (with
    ``all_descriptors``) every descriptor from one pass that extracts ``concat`` and cuts it."""
    amp = evaluation_amp(cfg, device)
    configured = getattr(model, "test_feature", None)
    if not all_descriptors or configured is None:
        return [{configured or "model": extract_features(model, loader, device=device, flip=flip, amp=amp,
                                                          progress=progress, cameras=cameras)} for loader in loaders]
    model.test_feature = "concat"
    try:
        sets = [extract_features(model, loader, device=device, flip=flip, amp=amp, progress=progress, cameras=cameras)
                for loader in loaders]
    finally:
        model.test_feature = configured
    width = model.backbone.visual_width
    return [_split_descriptors(features, width) for features in sets]


def evaluate_model(
    model, dataset: ReIDDataset, cfg: TrainConfig, device: torch.device, out_dir=None,
    flip: bool = False, rerank: "bool | Reranking" = False, progress: bool = False, label: str | None = None,
    descriptors: bool = False, strict: bool = False,
) -> EvalOutcome:
    """Extract query/gallery features, rank, and (if ``out_dir``) save the artefacts.

    The metrics and artefacts are those of the model's inference descriptor (``model.test_feature``).
    With ``descriptors`` the metrics also hold ``descriptors``: mAP / R1 / R5 / R10 of every
    descriptor (``concat``, ``proj``, ``pre_proj``), from the same forward passes. Unreadable images
    are left out with a warning and counted in ``skipped`` / ``skipped_paths``; with ``strict`` any
    of them is a DatasetError instead. ``rerank``: ``True`` re-ranks with CLIP-ReID's parameters, a
    :class:`Reranking` with its own; the metrics then hold ``rerank_params``.
    """
    rerank = Reranking().check() if rerank is True else (rerank.check() if rerank else None)
    was_training = model.training
    model.eval()
    try:
        configured_loaders = ConfiguredLoaders(cfg)
        loaders = (configured_loaders.test(dataset.query), configured_loaders.test(dataset.gallery))
        cameras = training_cameras(cfg, dataset)
        query, gallery = _extract(model, loaders, cfg, device, flip, progress, descriptors, cameras)
    finally:
        model.train(was_training)
    configured = next(iter(query)) if len(query) == 1 else model.test_feature
    skipped = query[configured].skipped + gallery[configured].skipped
    if skipped and strict:
        raise DatasetError(f"{len(skipped)} image(s) of '{label or dataset.name}' could not be read, e.g. "
                           f"{', '.join(skipped[:3])}; fix or remove them (`scing data check` lists them all), "
                           "or drop --strict to evaluate without them")
    distmat, result = evaluate_features(query[configured], gallery[configured], rerank=rerank)
    metrics = metrics_of(result)
    metrics.update(num_query=len(query[configured].pids), num_gallery=len(gallery[configured].pids), flip=flip,
                   rerank=rerank is not None, skipped=len(skipped), skipped_paths=skipped,
                   precision="amp" if evaluation_amp(cfg, device) else "fp32")
    if rerank is not None:
        metrics["rerank_params"] = rerank.as_dict()
    if not cameras and getattr(getattr(model, "backbone", None), "sie_cameras", 0):
        metrics["sie"] = "cameras unknown to the model: the mean of its camera embeddings"
    if descriptors and len(query) > 1:
        metrics["descriptor"] = configured
        metrics["descriptors"] = {}
        for name in DESCRIPTORS:
            other = result if name == configured else evaluate_features(query[name], gallery[name], rerank=rerank)[1]
            metrics["descriptors"][name] = {k: v for k, v in metrics_of(other).items() if k != "num_valid"}
    if out_dir is not None:
        save_eval_artifacts(out_dir, query[configured], gallery[configured], distmat, result,
                            extra_metrics={"dataset": label or dataset.name, "flip": flip,
                                           "rerank": metrics["rerank"],
                                           **({"rerank_params": metrics["rerank_params"]} if rerank else {}),
                                           "skipped": len(skipped), "skipped_paths": skipped,
                                           **({"descriptors": metrics["descriptors"], "descriptor": configured}
                                              if "descriptors" in metrics else {})})
    return EvalOutcome(label or dataset.name, metrics, Path(out_dir) if out_dir else None)
