"""Descriptors of every image a loader yields, with their pids, camids and paths.

Model contract: ``model(images, cams)`` returns a (B, F) descriptor in eval mode (the project's
ReID models do). Loader contract: batches ``(images, pids, camids, indices)`` as built by
``scing_core.data.loaders.build_test_loader``; a ``None`` batch (every image unreadable) is
skipped; ``loader.dataset.samples[index].path`` is the image's path.
"""

from __future__ import annotations

import logging
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np
import torch
from tqdm import tqdm

from scing_core.errors import InputError

log = logging.getLogger(__name__)


@dataclass
class FeatureSet:
    """Features of a split: ``features`` (N, F) float32 CPU tensor, and per-row ``pids``, ``camids``, ``paths``."""

    features: torch.Tensor
    pids: np.ndarray
    camids: np.ndarray
    paths: list[str]
    skipped: list[str] = field(default_factory=list)  # images of the split that could not be read (left out)

    def __post_init__(self) -> None:
        self.pids = np.asarray(self.pids, dtype=np.int64)
        self.camids = np.asarray(self.camids, dtype=np.int64)
        self.paths = [str(path) for path in self.paths]
        if not isinstance(self.features, torch.Tensor) or self.features.ndim != 2:
            shape = tuple(self.features.shape) if hasattr(self.features, "shape") else type(self.features).__name__
            raise InputError(f"FeatureSet.features: expected an (N, F) torch tensor, got {shape}")
        sizes = {"features": self.features.shape[0], "pids": len(self.pids), "camids": len(self.camids),
                 "paths": len(self.paths)}
        if len(set(sizes.values())) != 1:
            raise InputError(f"FeatureSet: fields have different lengths {sizes}; they must describe the same images")

    def __len__(self) -> int:
        return int(self.features.shape[0])


def evaluation_amp(cfg, device: torch.device) -> bool:
    """Features for evaluation under autocast: only on a GPU, when the config's ``eval_precision: amp``
    asks (fp32 by default, as CLIP-ReID's test) and its ``amp`` is not off."""
    return device.type == "cuda" and cfg.eval_precision == "amp" and cfg.amp != "off"


def extract_features(model: torch.nn.Module, loader: Iterable, device: str | torch.device = "cpu",
                     flip: bool = False, amp: bool = False, progress: bool = True,
                     cameras: bool = True) -> FeatureSet:
    """Run ``model`` over ``loader`` in inference mode and collect the descriptors.

    Args:
        model: called as ``model(images, cams)``; put in eval mode for the pass and restored after.
        loader: yields ``(images, pids, camids, indices)`` batches; ``loader.dataset.samples``
            gives the paths.
        device: where the model runs (it is moved there).
        flip: average each descriptor with that of the horizontally flipped image.
        amp: float16 autocast, on CUDA only (ignored on CPU); default fp32 (:func:`evaluation_amp`).
        progress: show a tqdm progress bar.
        cameras: pass the images' camera ids to the model; False passes -1 (unknown camera: images
            from cameras the model was not trained with; an SIE model then adds its mean camera vector).

    Returns:
        A :class:`FeatureSet` in loader order (float32 features on the CPU).
    """
    device = torch.device(device)
    samples = _samples_of(loader)
    was_training = model.training
    model.to(device).eval()
    chunks, pids, camids, paths = [], [], [], []
    autocast = torch.autocast("cuda", dtype=torch.float16) if amp and device.type == "cuda" else nullcontext()
    try:
        with torch.inference_mode(), autocast:
            for batch in tqdm(loader, desc="features", unit="batch", disable=not progress, leave=False):
                if batch is None:
                    continue
                images, batch_pids, batch_camids, indices = batch
                cams = torch.as_tensor(batch_camids) if cameras else torch.full((len(batch_pids),), -1)
                chunks.append(_describe(model, images.to(device, non_blocking=True), cams.to(device), flip))
                pids.append(np.asarray(batch_pids, dtype=np.int64))
                camids.append(np.asarray(batch_camids, dtype=np.int64))
                paths += [samples[int(index)].path for index in indices]
    finally:
        model.train(was_training)
    if not chunks:
        raise InputError("extract_features: the loader yielded no readable image; check the dataset folder")
    read = set(paths)
    skipped = [str(s.path) for s in samples if str(s.path) not in read]
    log.debug("extracted %d descriptors, skipped %d unreadable images", len(paths), len(skipped))
    return FeatureSet(torch.cat(chunks), np.concatenate(pids), np.concatenate(camids), paths, skipped)


def _samples_of(loader: Any) -> Any:
    samples = getattr(getattr(loader, "dataset", None), "samples", None)
    if samples is None:
        raise InputError("extract_features: loader.dataset.samples is missing; build the loader with "
                         "scing_core.data.loaders.build_test_loader (or give its dataset a .samples list)")
    return samples


def _describe(model: torch.nn.Module, images: torch.Tensor, cams: torch.Tensor, flip: bool) -> torch.Tensor:
    """(B, F) float32 CPU descriptors of a batch, averaged with the flipped images' when ``flip``."""
    features = _checked_output(model(images, cams), images.shape[0])
    if flip:
        features = (features + _checked_output(model(torch.flip(images, dims=[3]), cams), images.shape[0])) / 2.0
    return features.cpu()


def _checked_output(output: Any, batch_size: int) -> torch.Tensor:
    if not isinstance(output, torch.Tensor) or output.ndim != 2 or output.shape[0] != batch_size:
        shape = tuple(output.shape) if isinstance(output, torch.Tensor) else type(output).__name__
        raise InputError(f"extract_features: the model must return a ({batch_size}, F) tensor in eval mode, got {shape}")
    return output.float()
