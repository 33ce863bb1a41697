"""Images and person masks for saliency: network input, display image, mask at the input size."""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from scing_core.config.schema import DataConfig
from scing_core.data.datasets import load_dataset
from scing_core.data.datasets.synthped import MASK_DIR, mask_path_for
from scing_core.data.image_dataset import open_rgb
from scing_core.data.transforms import build_test_transform
from scing_core.errors import InputError, ScingError

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=8)
def _test_transform(data_cfg: DataConfig):
    return build_test_transform(data_cfg)


def load_input(path: str, data_cfg: DataConfig) -> torch.Tensor:
    """The normalised network input [3, H, W] of an image file (the run's test transform)."""
    image = open_rgb(str(path))
    if image is None:
        raise InputError(f"cannot read image '{path}' (missing, truncated or not an image)")
    return _test_transform(data_cfg)(image)


def to_display_image(tensor: torch.Tensor, data_cfg: DataConfig) -> np.ndarray:
    """A normalised [3, H, W] input back to an HxWx3 uint8 RGB image."""
    mean = torch.tensor(data_cfg.mean, dtype=torch.float32).view(3, 1, 1)
    std = torch.tensor(data_cfg.std, dtype=torch.float32).view(3, 1, 1)
    rgb = (tensor.detach().float().cpu() * std + mean).clamp(0.0, 1.0)
    return (rgb.permute(1, 2, 0).numpy() * 255.0 + 0.5).astype(np.uint8)


@functools.lru_cache(maxsize=16)
def _synthped_at(root: str):
    """The SynthPed dataset whose folder is ``root`` (cached), or None when it is not one."""
    try:
        return load_dataset("synthped", root)
    except ScingError as exc:
        log.debug("no SynthPed at %s (%s)", root, exc)
        return None


def mask_file_for(path: str) -> str | None:
    """The SynthPed person mask of an image (``<root>/masks/<split_dir>/<stem>.png``), or None."""
    root = Path(path).resolve().parent.parent
    if not (root / MASK_DIR).is_dir():
        return None
    dataset = _synthped_at(str(root))
    return mask_path_for(dataset, str(Path(path).resolve())) if dataset is not None else None


def person_mask(path: str, shape: tuple[int, int]) -> np.ndarray | None:
    """The image's person mask as an HxW bool array at ``shape`` (the network input size; the image is
    resized to it without cropping, so nearest-neighbour resizing keeps them aligned), or None."""
    mask_file = mask_file_for(path)
    if mask_file is None:
        return None
    with Image.open(mask_file) as mask:
        resized = mask.convert("L").resize((int(shape[1]), int(shape[0])), Image.Resampling.NEAREST)
    return np.asarray(resized) > 127
