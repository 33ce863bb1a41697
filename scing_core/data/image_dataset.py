"""A map-style dataset over ``ReIDSample`` lists that survives unreadable images.

``dataset[i]`` returns ``(image_tensor, pid, camid, i)``. An image that cannot be opened (missing,
truncated, not an image) is logged once with its path and the item comes back as ``None``;
:func:`collate_skip_none` drops those before collation, so one bad file never ends an epoch.
A batch whose every item was unreadable collates to ``None``: loops over a loader built with it must
skip ``None`` batches (``if batch is None: continue``).

Reproducible augmentation: ``dataset[(i, seed)]`` runs the transform under a private RNG state seeded
with ``seed`` (torch CPU, numpy and ``random``; the caller's RNG state is restored afterwards). The
loaders use this so that an item's augmentation depends on (seed, epoch, position) only, whatever
the number of workers.
"""

from __future__ import annotations

import contextlib
import logging
import random
from typing import Callable, Sequence

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset
from torch.utils.data.dataloader import default_collate
from torchvision import transforms as T

from scing_core.data.types import ReIDSample

log = logging.getLogger(__name__)

# Errors PIL raises on missing, truncated or malformed files.
UNREADABLE_IMAGE_ERRORS = (OSError, ValueError, SyntaxError, Image.DecompressionBombError)

_reported_paths: set[str] = set()


def open_rgb(path: str) -> Image.Image | None:
    """Open ``path`` as an RGB PIL image, or return None (logging the path once per process)."""
    try:
        with Image.open(path) as image:
            return image.convert("RGB")
    except UNREADABLE_IMAGE_ERRORS as error:
        if path not in _reported_paths:
            _reported_paths.add(path)
            log.warning("skipping unreadable image %s (%s: %s)", path, type(error).__name__, error)
        return None


@contextlib.contextmanager
def seeded_rng(seed: int):
    """Run the block with torch (CPU), numpy and ``random`` seeded from ``seed``; restore them after.

    Only the CPU generator is touched, so CUDA RNG streams of a training process are left alone.
    """
    torch_state = torch.get_rng_state()
    numpy_state = np.random.get_state()
    python_state = random.getstate()
    torch.default_generator.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)
    try:
        yield
    finally:
        torch.set_rng_state(torch_state)
        np.random.set_state(numpy_state)
        random.setstate(python_state)


class ImageDataset(Dataset):
    """``(image_tensor, pid, camid, index)`` items from ``samples``, read with PIL in RGB.

    Args:
        samples: ``ReIDSample(path, pid, camid)`` list (a dataset split).
        transform: PIL image -> tensor (``build_train_transform`` etc.); None = ``ToTensor``.
        with_cams: when False every item reports camid 0 (for test sets whose camera ids the
            model's camera embedding does not know).
    """

    def __init__(self, samples: Sequence[ReIDSample], transform: Callable | None = None, with_cams: bool = True):
        self.samples = list(samples)
        self.transform = transform if transform is not None else T.ToTensor()
        self.with_cams = with_cams

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, key: int | tuple[int, int]):
        """``dataset[i]``, or ``dataset[(i, seed)]`` to transform under an RNG seeded with ``seed``."""
        if isinstance(key, tuple):
            index, seed = key
            with seeded_rng(seed):
                return self._load(index)
        return self._load(key)

    def _load(self, index: int):
        path, pid, camid = self.samples[index]
        image = open_rgb(path)
        if image is None:
            return None
        return self.transform(image), pid, camid if self.with_cams else 0, index


def collate_skip_none(batch: list):
    """Default collation of the readable items of ``batch``; None when none is readable."""
    items = [item for item in batch if item is not None]
    if not items:
        return None
    return default_collate(items)
