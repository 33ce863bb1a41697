"""DataLoaders for training, testing and the stage-1 view cache.

Every loader collates with :func:`collate_skip_none`: unreadable images are dropped from their batch,
and a batch with no readable image comes out as ``None`` — loops must ``continue`` on it. Items carry
their dataset index (``images, pids, camids, indices = batch``) so features can be matched back to
samples even when one was skipped.

Reproducibility: random transforms run under a per-item seed (``ImageDataset[(index, seed)]``) that
the loader derives from its seed and the item's position — ``(epoch_seed, epoch, rank, batch, slot)``
for training, ``(seed, index)`` for views. Augmentations therefore depend only on those seeds, with
0 or N workers alike. Workers additionally get a generator seeded from the loader's seed and a
``worker_init_fn`` that seeds numpy and ``random`` from torch's per-worker seed.
"""

from __future__ import annotations

import random
from typing import Callable, Iterator, Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, Sampler

from scing_core.config.schema import TrainConfig
from scing_core.data.image_dataset import ImageDataset, collate_skip_none
from scing_core.data.samplers import PKSampler
from scing_core.data.transforms import build_test_transform, build_train_transform
from scing_core.data.types import ReIDSample
from scing_core.errors import DatasetError, InputError


def mix_seed(*parts: int) -> int:
    """A well-spread 63-bit seed from a tuple of integers (order matters)."""
    words = [int(part) % 2**32 for part in parts] + [int(part) // 2**32 % 2**32 for part in parts]
    return int(np.random.SeedSequence(words).generate_state(1, np.uint64)[0]) >> 1


def seed_worker(worker_id: int) -> None:
    """``worker_init_fn``: seed numpy and ``random`` from the worker's torch seed (set by the loader)."""
    seed = torch.initial_seed()
    np.random.seed(seed % 2**32)
    random.seed(seed)


class SeededPKBatches(Sampler[list[tuple[int, int]]]):
    """Wraps a :class:`PKSampler`: yields ``(index, item_seed)`` keys for ``ImageDataset``.

    ``set_epoch`` is forwarded to the PK sampler and also changes the item seeds, so a loader reused
    across epochs still gets fresh, reproducible augmentations.
    """

    def __init__(self, pk_sampler: PKSampler, seed: int):
        self.pk_sampler = pk_sampler
        self.seed = seed

    def set_epoch(self, epoch: int) -> None:
        self.pk_sampler.set_epoch(epoch)

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        pk = self.pk_sampler
        for number, batch in enumerate(pk):
            yield [(index, mix_seed(self.seed, pk.epoch, pk.rank, number, slot)) for slot, index in enumerate(batch)]

    def __len__(self) -> int:
        return len(self.pk_sampler)


class SeededOrderedBatches(Sampler[list[tuple[int, int]]]):
    """Indices ``0..n-1`` in order, in batches of ``batch_size``, each keyed with seed ``(seed, index)``."""

    def __init__(self, num_items: int, batch_size: int, seed: int):
        self.num_items, self.batch_size, self.seed = num_items, batch_size, seed

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        for start in range(0, self.num_items, self.batch_size):
            stop = min(start + self.batch_size, self.num_items)
            yield [(index, mix_seed(self.seed, index)) for index in range(start, stop)]

    def __len__(self) -> int:
        return (self.num_items + self.batch_size - 1) // self.batch_size


def _check_samples(samples: Sequence[ReIDSample], what: str) -> list[ReIDSample]:
    samples = list(samples)
    if not samples:
        raise DatasetError(f"cannot build the {what} loader: the split is empty; check the dataset folder")
    return samples


def _loader_options(cfg: TrainConfig, seed: int) -> dict:
    workers = int(cfg.data.num_workers)
    if workers < 0:
        raise InputError(f"data.num_workers must be >= 0, got {workers}")
    return {
        "num_workers": workers,
        "collate_fn": collate_skip_none,
        "pin_memory": cfg.device != "cpu" and torch.cuda.is_available(),
        "worker_init_fn": seed_worker if workers else None,
        "generator": torch.Generator().manual_seed(seed % 2**63),
    }


def build_train_loader(samples: Sequence[ReIDSample], cfg: TrainConfig, epoch_seed: int, rank: int = 0,
                       world_size: int = 1) -> DataLoader:
    """PK-sampled, augmented training batches ``(images, pids, camids, indices)`` for one epoch.

    Build it once per epoch with an ``epoch_seed`` derived from (seed, stage, epoch): the batch order
    and every augmentation depend on it only. ``loader.batch_sampler.pk_sampler`` is the PKSampler.
    """
    samples = _check_samples(samples, "training")
    data = cfg.data
    pk_sampler = PKSampler([s.pid for s in samples], data.ids_per_batch, data.instances_per_id,
                           seed=epoch_seed, rank=rank, world_size=world_size, drop_last=True)
    dataset = ImageDataset(samples, build_train_transform(data), with_cams=True)
    return DataLoader(dataset, batch_sampler=SeededPKBatches(pk_sampler, epoch_seed),
                      **_loader_options(cfg, mix_seed(epoch_seed, rank)))


def build_test_loader(samples: Sequence[ReIDSample], cfg: TrainConfig) -> DataLoader:
    """Ordered batches of ``cfg.data.test_batch_size`` with the deterministic test transform."""
    samples = _check_samples(samples, "test")
    if cfg.data.test_batch_size < 1:
        raise InputError(f"data.test_batch_size must be >= 1, got {cfg.data.test_batch_size}")
    dataset = ImageDataset(samples, build_test_transform(cfg.data), with_cams=True)
    return DataLoader(dataset, batch_size=cfg.data.test_batch_size, shuffle=False,
                      **_loader_options(cfg, cfg.seed))


def build_view_loader(samples: Sequence[ReIDSample], cfg: TrainConfig, transform: Callable, batch_size: int,
                      seed: int) -> DataLoader:
    """Ordered batches of ``transform``-ed images; image ``i``'s view depends only on ``(seed, i)``.

    The stage-1 feature cache encodes original views (test transform) and perturbed views
    (``build_perturbation``) with it; a different ``seed`` gives a different bank of views.
    """
    samples = _check_samples(samples, "view")
    if batch_size < 1:
        raise InputError(f"view loader batch_size must be >= 1, got {batch_size}")
    dataset = ImageDataset(samples, transform, with_cams=True)
    return DataLoader(dataset, batch_sampler=SeededOrderedBatches(len(samples), batch_size, seed),
                      **_loader_options(cfg, seed))
