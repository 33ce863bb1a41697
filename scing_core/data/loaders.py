"""DataLoaders for training, testing and the stage-1 view cache.

Every loader collates with :func:`collate_skip_none`: unreadable images are dropped from their batch,
and a batch with no readable image comes out as ``None`` — loops must ``continue`` on it. Items carry
their dataset index (``images, pids, camids, indices = batch``) so features can be matched back to
samples even when one was skipped.

Reproducibility: random transforms run under a per-item seed (``ImageDataset[(index, seed)]``) that
the loader derives from its seed and the item's position — ``(epoch's seed, 0, rank, batch, slot)``
for training, ``(seed, index)`` for views. Augmentations therefore depend only on those seeds, with
0 or N workers alike. Workers additionally get a generator seeded from the loader's seed and a
``worker_init_fn`` that seeds numpy and ``random`` from torch's per-worker seed.

The builders take explicit arguments; :class:`ConfiguredLoaders` maps a ``TrainConfig`` onto them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
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


class EpochPKBatches(Sampler[list[tuple[int, int]]]):
    """PK batches of ``(index, item_seed)`` keys for ``ImageDataset``, one loader for every epoch.

    Epoch ``e`` is drawn from its own seed ``seed_of_epoch(e)`` alone: the PK order (a
    :class:`PKSampler` seeded with it), every item's augmentation seed
    ``(seed_of_epoch(e), 0, rank, batch, slot)`` and the workers' generator. ``set_epoch`` selects the
    epoch and, for a resumed or capped epoch, the slice of its batches to yield.
    """

    def __init__(self, pk_sampler: PKSampler, seed_of_epoch: Callable[[int], int], generator: torch.Generator):
        self.pk_sampler, self.seed_of_epoch, self.generator = pk_sampler, seed_of_epoch, generator
        self.window = slice(None)
        self.set_epoch(0)

    def set_epoch(self, epoch: int, skip: int = 0, limit: int | None = None) -> None:
        """Yield epoch ``epoch``'s batches ``[:limit][skip:]`` from now on."""
        seed = self.seed_of_epoch(epoch)
        self.pk_sampler.reseed(seed)
        self.generator.manual_seed(mix_seed(seed, self.pk_sampler.rank) % 2**63)
        self.window = slice(skip, limit if limit is None else max(limit, skip))

    def full_length(self) -> int:
        """Batches a whole epoch holds (``set_epoch``'s window aside)."""
        return len(self.pk_sampler)

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        pk = self.pk_sampler
        batches = list(pk)
        for number in range(len(batches))[self.window]:
            yield [(index, mix_seed(pk.seed, pk.epoch, pk.rank, number, slot)) for slot, index in enumerate(batches[number])]

    def __len__(self) -> int:
        return len(range(self.full_length())[self.window])


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


@dataclass(frozen=True)
class LoaderOptions:
    """How every loader runs: worker processes and pinned memory."""

    workers: int = 0
    pin_memory: bool = False

    def __post_init__(self) -> None:
        if self.workers < 0:
            raise InputError(f"data.num_workers must be >= 0, got {self.workers}")

    def kwargs(self, seed: int) -> dict:
        return {
            "num_workers": self.workers,
            "collate_fn": collate_skip_none,
            "pin_memory": self.pin_memory,
            "worker_init_fn": seed_worker if self.workers else None,
            "generator": torch.Generator().manual_seed(seed % 2**63),
        }


def build_train_loader(samples: Sequence[ReIDSample], transform: Callable, ids_per_batch: int,
                       instances_per_id: int, seed_of_epoch: Callable[[int], int], options: LoaderOptions,
                       rank: int = 0, world_size: int = 1) -> DataLoader:
    """PK-sampled, augmented training batches ``(images, pids, camids, indices)``, built once for all
    epochs: ``loader.batch_sampler.set_epoch(e)`` before each pass (:class:`EpochPKBatches`); the
    batch order and every augmentation of epoch ``e`` depend on ``seed_of_epoch(e)`` only."""
    samples = _check_samples(samples, "training")
    pk_sampler = PKSampler([s.pid for s in samples], ids_per_batch, instances_per_id,
                           seed=seed_of_epoch(0), rank=rank, world_size=world_size, drop_last=True)
    dataset = ImageDataset(samples, transform, with_cams=True)
    kwargs = options.kwargs(0)
    return DataLoader(dataset, batch_sampler=EpochPKBatches(pk_sampler, seed_of_epoch, kwargs["generator"]), **kwargs)


def build_test_loader(samples: Sequence[ReIDSample], transform: Callable, batch_size: int, options: LoaderOptions,
                      seed: int = 0) -> DataLoader:
    """Ordered batches of ``batch_size`` with the deterministic ``transform``."""
    samples = _check_samples(samples, "test")
    if batch_size < 1:
        raise InputError(f"data.test_batch_size must be >= 1, got {batch_size}")
    dataset = ImageDataset(samples, transform, with_cams=True)
    return DataLoader(dataset, batch_size=batch_size, shuffle=False, **options.kwargs(seed))


def build_view_loader(samples: Sequence[ReIDSample], transform: Callable, batch_size: int, seed: int,
                      options: LoaderOptions) -> DataLoader:
    """Ordered batches of ``transform``-ed images; image ``i``'s view depends only on ``(seed, i)``.

    The stage-1 feature cache encodes original views (test transform) and perturbed views
    (``build_perturbation``) with it; a different ``seed`` gives a different bank of views.
    """
    samples = _check_samples(samples, "view")
    if batch_size < 1:
        raise InputError(f"view loader batch_size must be >= 1, got {batch_size}")
    dataset = ImageDataset(samples, transform, with_cams=True)
    return DataLoader(dataset, batch_sampler=SeededOrderedBatches(len(samples), batch_size, seed),
                      **options.kwargs(seed))


class ConfiguredLoaders:
    """The loaders a run's config asks for: the one place ``TrainConfig`` is mapped onto loader arguments."""

    def __init__(self, cfg: TrainConfig) -> None:
        data = cfg.data
        self.data = data
        self.seed = cfg.seed
        self.options = LoaderOptions(int(data.num_workers), cfg.device != "cpu" and torch.cuda.is_available())

    def train(self, samples: Sequence[ReIDSample], seed_of_epoch: Callable[[int], int], rank: int = 0,
              world_size: int = 1) -> DataLoader:
        return build_train_loader(samples, build_train_transform(self.data), self.data.ids_per_batch,
                                  self.data.instances_per_id, seed_of_epoch, self.options, rank, world_size)

    def test(self, samples: Sequence[ReIDSample]) -> DataLoader:
        return build_test_loader(samples, build_test_transform(self.data), self.data.test_batch_size, self.options,
                                 self.seed)

    def views(self, samples: Sequence[ReIDSample], transform: Callable, seed: int) -> DataLoader:
        return build_view_loader(samples, transform, self.data.test_batch_size, seed, self.options)
