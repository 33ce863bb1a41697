"""PK sampler: batch composition, replacement for small identities, seeding, distributed shares."""

from __future__ import annotations

from collections import Counter

import pytest

from scing_core.data.samplers import PKSampler
from scing_core.errors import DatasetError, InputError


def make_pids(images_per_id: list[int]) -> list[int]:
    """Dataset pid labels, identities interleaved so that an identity's indices are not contiguous."""
    pids = []
    remaining = list(images_per_id)
    while any(remaining):
        for pid, left in enumerate(remaining):
            if left:
                pids.append(pid)
                remaining[pid] -= 1
    return pids


def test_batches_hold_p_identities_with_k_consecutive_images_each():
    pids = make_pids([8, 6, 5, 9, 4, 7, 12, 4, 5, 6])
    sampler = PKSampler(pids, ids_per_batch=4, instances_per_id=3, seed=1)
    batches = list(sampler)
    assert batches
    for batch in batches:
        assert len(batch) == 12
        blocks = [[pids[i] for i in batch[start:start + 3]] for start in range(0, 12, 3)]
        assert all(len(set(block)) == 1 for block in blocks), blocks
        assert len({block[0] for block in blocks}) == 4


def test_identities_with_fewer_than_k_images_are_sampled_with_replacement():
    pids = make_pids([1, 2, 8, 8, 8, 8])  # ids 0 and 1 have fewer than K = 4 images
    seen = Counter()
    for epoch in range(20):
        sampler = PKSampler(pids, ids_per_batch=2, instances_per_id=4, seed=0)
        sampler.set_epoch(epoch)
        for batch in sampler:
            for start in range(0, len(batch), 4):
                block = batch[start:start + 4]
                seen[pids[block[0]]] += 1
                if pids[block[0]] in (0, 1):
                    assert len(set(block)) < 4  # duplicates: drawn with replacement
    assert seen[0] > 0 and seen[1] > 0


def test_no_image_repeats_within_an_epoch_when_every_identity_has_k_images():
    pids = make_pids([8] * 12)
    sampler = PKSampler(pids, ids_per_batch=4, instances_per_id=4, seed=3)
    used = [i for batch in sampler for i in batch]
    assert len(used) == len(set(used))
    assert len(used) >= 0.6 * len(pids)  # about one pass over the images


def test_same_seed_and_epoch_give_the_same_batches_and_another_epoch_does_not():
    pids = make_pids([6, 7, 8, 5, 9, 6, 7, 8])
    first = PKSampler(pids, 4, 2, seed=7)
    second = PKSampler(pids, 4, 2, seed=7)
    first.set_epoch(3)
    second.set_epoch(3)
    assert list(first) == list(second)
    epoch_three = list(first)
    first.set_epoch(4)
    assert list(first) != epoch_three
    assert list(PKSampler(pids, 4, 2, seed=8)) != list(PKSampler(pids, 4, 2, seed=7))


def test_len_is_the_number_of_batches_yielded():
    pids = make_pids([5, 9, 3, 8, 6, 7, 4, 11])
    for world_size in (1, 2, 3):
        for rank in range(world_size):
            sampler = PKSampler(pids, 2, 3, seed=2, rank=rank, world_size=world_size)
            for epoch in range(3):
                sampler.set_epoch(epoch)
                assert len(sampler) == len(list(sampler))


def test_ranks_get_disjoint_equal_shares_that_cover_the_epoch():
    pids = make_pids([6, 8, 7, 9, 5, 10, 6, 8, 7, 4])
    single = PKSampler(pids, 2, 2, seed=5)
    single.set_epoch(2)
    everything = list(single)
    shares = []
    for rank in range(3):
        sampler = PKSampler(pids, 2, 2, seed=5, rank=rank, world_size=3)
        sampler.set_epoch(2)
        shares.append(list(sampler))
    assert len({len(share) for share in shares}) == 1
    usable = len(everything) - len(everything) % 3
    interleaved = [shares[i % 3][i // 3] for i in range(usable)]
    assert interleaved == everything[:usable]


def test_drop_last_false_keeps_the_incomplete_final_batch():
    pids = make_pids([4, 4, 4, 4, 4])  # 5 identities, P = 2: two full batches + one identity left
    kept = list(PKSampler(pids, 2, 4, seed=0, drop_last=False))
    dropped = list(PKSampler(pids, 2, 4, seed=0, drop_last=True))
    assert [len(b) for b in dropped] == [8, 8]
    assert [len(b) for b in kept] == [8, 8, 4]
    assert sorted(i for b in kept for i in b) == list(range(20))


def test_drop_last_false_pads_ranks_to_equal_length():
    pids = make_pids([4, 4, 4, 4, 4])  # three batches over two ranks
    lengths = [len(PKSampler(pids, 2, 4, rank=r, world_size=2, drop_last=False)) for r in range(2)]
    assert lengths == [2, 2]


def test_fewer_identities_than_p_is_an_actionable_error():
    with pytest.raises(DatasetError, match="ids_per_batch"):
        PKSampler(make_pids([4, 4, 4]), ids_per_batch=16, instances_per_id=4)


def test_rank_outside_world_size_is_rejected():
    with pytest.raises(InputError, match="rank"):
        PKSampler(make_pids([4] * 8), 2, 2, rank=2, world_size=2)
