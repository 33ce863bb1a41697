"""The PK identity sampler: batches of P identities x K images, seeded and distributed-aware.

Semantics follow CLIP-ReID's ``RandomIdentitySampler``: at the start of an epoch every identity's
images are shuffled (an identity with fewer than K images is drawn up to K with replacement) and cut
into chunks of K; batches then take one chunk from each of P identities picked at random among those
with chunks left, until fewer than P remain. So each image is seen about once per epoch, and every
identity appears in about ``n_images // K`` batches (at least one).

The epoch's batch list depends only on ``(seed, epoch)``. With ``world_size > 1`` all ranks build the
same list and rank ``r`` keeps batches ``i`` with ``i % world_size == r``, the list first cut to a
multiple of ``world_size`` so every rank runs the same number of steps.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterator, Sequence

import numpy as np
from torch.utils.data import Sampler

from scing_core.errors import DatasetError, InputError


def _identity_chunks(indices_by_pid: dict[int, list[int]], k: int,
                     rng: np.random.Generator) -> dict[int, list[list[int]]]:
    """Each identity's indices, shuffled (drawn up to k with replacement when fewer) and cut into k-chunks."""
    chunks = {}
    for pid, indices in indices_by_pid.items():
        if len(indices) < k:
            drawn = rng.choice(indices, size=k, replace=True).tolist()
        else:
            drawn = rng.permutation(indices).tolist()
        chunks[pid] = [drawn[start:start + k] for start in range(0, len(drawn) - k + 1, k)]
    return chunks


class PKSampler(Sampler[list[int]]):
    """A batch sampler yielding lists of P*K dataset indices, K consecutive ones per identity.

    Args:
        pids: the identity label of each dataset index (``[s.pid for s in samples]``).
        ids_per_batch: P. instances_per_id: K.
        seed: base seed; :meth:`set_epoch` reseeds from ``(seed, epoch)``.
        rank, world_size: this process's share of each epoch in distributed training.
        drop_last: True drops the incomplete batch at the end of an epoch (fewer than P identities
            left). False keeps it (one chunk per remaining identity) and, with several ranks, wraps
            the batch list around so each rank still gets the same number of batches.
    """

    def __init__(self, pids: Sequence[int], ids_per_batch: int, instances_per_id: int, seed: int = 0,
                 rank: int = 0, world_size: int = 1, drop_last: bool = True):
        if ids_per_batch < 1 or instances_per_id < 1:
            raise InputError(f"PK sampler needs P >= 1 and K >= 1, got P={ids_per_batch}, K={instances_per_id}; "
                             "set data.ids_per_batch and data.instances_per_id")
        if world_size < 1 or not 0 <= rank < world_size:
            raise InputError(f"PK sampler rank {rank} is outside world_size {world_size}")
        self.indices_by_pid: dict[int, list[int]] = defaultdict(list)
        for index, pid in enumerate(pids):
            self.indices_by_pid[int(pid)].append(index)
        self.ids_per_batch = ids_per_batch
        self.instances_per_id = instances_per_id
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.drop_last = drop_last
        self.epoch = 0
        self._cache: tuple[tuple[int, int], list[list[int]]] | None = None
        self._check_enough_identities()

    def _check_enough_identities(self) -> None:
        num_ids = len(self.indices_by_pid)
        if self.drop_last and num_ids < self.ids_per_batch:
            raise DatasetError(
                f"the training split has {num_ids} identities, fewer than ids_per_batch={self.ids_per_batch}; "
                f"lower data.ids_per_batch to at most {num_ids}")
        if len(self) == 0:
            raise DatasetError(
                f"the PK sampler makes no batch for rank {self.rank} of {self.world_size} "
                f"({num_ids} identities, P={self.ids_per_batch}, K={self.instances_per_id}); "
                "use fewer ranks or a smaller data.ids_per_batch")

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose batches the next iteration yields (seeded from ``(seed, epoch)``)."""
        self.epoch = int(epoch)

    def reseed(self, seed: int) -> None:
        """Draw from ``seed`` from now on (``(seed, epoch)`` decides the batches, as at construction)."""
        self.seed = seed

    def epoch_batches(self) -> list[list[int]]:
        """All batches of the current epoch, before the split across ranks (same on every rank)."""
        if self._cache is not None and self._cache[0] == (self.seed, self.epoch):
            return self._cache[1]
        seed = self.seed % 2**64
        rng = np.random.default_rng([seed & 0xFFFFFFFF, seed >> 32, self.epoch % 2**32])
        chunks = _identity_chunks(self.indices_by_pid, self.instances_per_id, rng)
        available = [pid for pid in sorted(chunks) if chunks[pid]]
        batches = []
        while len(available) >= self.ids_per_batch:
            picked = rng.choice(len(available), size=self.ids_per_batch, replace=False)
            batch = []
            for position in picked:
                batch += chunks[available[position]].pop()
            batches.append(batch)
            available = [pid for pid in available if chunks[pid]]
        if available and not self.drop_last:
            batches.append([i for pid in rng.permutation(available).tolist() for i in chunks[pid].pop()])
        self._cache = ((self.seed, self.epoch), batches)
        return batches

    def _rank_batches(self) -> list[list[int]]:
        batches = self.epoch_batches()
        if self.world_size == 1:
            return batches
        if self.drop_last:
            batches = batches[: len(batches) - len(batches) % self.world_size]
        elif batches and len(batches) % self.world_size:
            short = self.world_size - len(batches) % self.world_size
            batches = batches + [batches[i % len(batches)] for i in range(short)]
        return batches[self.rank::self.world_size]

    def __iter__(self) -> Iterator[list[int]]:
        yield from (list(batch) for batch in self._rank_batches())

    def __len__(self) -> int:
        """Batches this rank yields in the current epoch (exact)."""
        return len(self._rank_batches())


class ShuffleBatches(Sampler[list[int]]):
    """CLIP-ReID's stage-1 batches: a random permutation of all items cut into ``batch_size`` batches,
    the last one partial (``processor_clipreid_stage1.py`` draws ``torch.randperm`` each epoch).

    The permutation depends only on ``(seed, epoch)``; with ``world_size > 1`` every rank keeps
    batches ``i % world_size == rank`` of a list cut to a multiple of ``world_size``.
    """

    def __init__(self, num_items: int, batch_size: int, seed: int = 0, rank: int = 0, world_size: int = 1):
        if batch_size < 1 or num_items < 1:
            raise InputError(f"shuffled batches need items and batch_size >= 1, got {num_items} items, batch {batch_size}")
        if world_size < 1 or not 0 <= rank < world_size:
            raise InputError(f"sampler rank {rank} is outside world_size {world_size}")
        self.num_items, self.batch_size, self.seed = num_items, batch_size, seed
        self.rank, self.world_size, self.epoch = rank, world_size, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def _rank_batches(self) -> list[list[int]]:
        seed = self.seed % 2**64
        order = np.random.default_rng([seed & 0xFFFFFFFF, seed >> 32, self.epoch % 2**32]).permutation(self.num_items)
        batches = [order[i:i + self.batch_size].tolist() for i in range(0, self.num_items, self.batch_size)]
        if self.world_size > 1:
            batches = batches[: len(batches) - len(batches) % self.world_size][self.rank::self.world_size]
        return batches

    def __iter__(self) -> Iterator[list[int]]:
        yield from self._rank_batches()

    def __len__(self) -> int:
        return len(self._rank_batches())
