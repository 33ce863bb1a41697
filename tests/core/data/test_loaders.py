"""Image dataset and loaders: corrupt files are skipped, batches are PK-shaped, seeds decide everything."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
from PIL import Image

from scing_core.config.schema import DataConfig, PerturbConfig, TrainConfig
from scing_core.data.image_dataset import ImageDataset, collate_skip_none
from scing_core.data.loaders import ConfiguredLoaders, build_view_loader
from scing_core.data.perturbations import build_perturbation
from scing_core.data.transforms import build_test_transform
from scing_core.data.types import ReIDSample
from scing_core.errors import DatasetError


def write_tree(root, ids: int = 6, per_id: int = 4, cams: int = 2) -> list[ReIDSample]:
    """Tiny 32x16 PNGs in the Market naming; one distinct random picture per file."""
    rng = np.random.default_rng(0)
    folder = root / "bounding_box_train"
    folder.mkdir(parents=True)
    samples = []
    for pid in range(ids):
        for n in range(per_id):
            camid = n % cams
            path = folder / f"{pid + 1:04d}_c{camid + 1}s1_{n:06d}_00.png"
            Image.fromarray(rng.integers(0, 256, (32, 16, 3), dtype=np.uint8)).save(path)
            samples.append(ReIDSample(str(path), pid, camid))
    return samples


def config(num_workers: int = 0, **data) -> TrainConfig:
    values = dict(image_size=(32, 16), ids_per_batch=3, instances_per_id=2, test_batch_size=5,
                  num_workers=num_workers)
    values.update(data)
    return TrainConfig(device="cpu", data=DataConfig(**values))


def batches_of(loader) -> list:
    return [batch for batch in loader]


def train_loader(samples, cfg: TrainConfig, seed: int):
    """A training loader whose every epoch draws from ``seed``."""
    return ConfiguredLoaders(cfg).train(samples, lambda epoch: seed)


def test_train_loader_yields_pk_batches_with_indices_back_into_the_samples(tmp_path):
    samples = write_tree(tmp_path)
    loader = train_loader(samples, config(), 11)
    batches = batches_of(loader)
    assert len(batches) == len(loader) > 0
    for images, pids, camids, indices in batches:
        assert images.shape == (6, 3, 32, 16)
        assert pids.tolist() == [samples[i].pid for i in indices.tolist()]
        assert camids.tolist() == [samples[i].camid for i in indices.tolist()]
        assert len(set(pids.tolist())) == 3


def test_train_loader_is_reproducible_from_the_epoch_seed_alone(tmp_path):
    samples = write_tree(tmp_path)
    first = batches_of(train_loader(samples, config(), 5))
    torch.manual_seed(123)  # the caller's global RNG must not matter
    second = batches_of(train_loader(samples, config(), 5))
    other = batches_of(train_loader(samples, config(), 6))
    for a, b in zip(first, second, strict=True):
        assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert any(not torch.equal(a[0], b[0]) for a, b in zip(first, other))


def test_one_train_loader_serves_every_epoch_and_a_resumed_epoch_gets_the_same_batches(tmp_path):
    samples = write_tree(tmp_path, ids=9)
    loader = ConfiguredLoaders(config()).train(samples, lambda epoch: 100 + epoch)
    sampler = loader.batch_sampler

    def epoch(e, **window):
        sampler.set_epoch(e, **window)
        batches = batches_of(loader)
        assert len(batches) == len(loader)  # the DataLoader's length is the epoch's own (PK counts vary)
        return batches

    first, again, second = epoch(0), epoch(0), epoch(1)
    assert len(first) > 2
    assert all(torch.equal(a[0], b[0]) for a, b in zip(first, again, strict=True))
    assert [b[3].tolist() for b in first] != [b[3].tolist() for b in second]
    resumed = epoch(1, skip=1, limit=3)  # stopped after one step, steps capped at three
    assert len(resumed) == 2
    for a, b in zip(resumed, second[1:3], strict=True):
        assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert [b[3].tolist() for b in second] == [b[3].tolist() for b in train_loader(samples, config(), 101)]


def test_train_loader_does_not_disturb_the_callers_random_state(tmp_path):
    samples = write_tree(tmp_path)
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    batches_of(train_loader(samples, config(), 1))
    assert torch.equal(torch.rand(3), expected)


def test_corrupt_image_is_skipped_with_one_warning_naming_its_path(tmp_path, caplog):
    samples = write_tree(tmp_path)
    bad = samples[4]
    with open(bad.path, "wb") as handle:
        handle.write(b"\x89PNG\r\n\x1a\n truncated garbage")
    dataset = ImageDataset(samples, build_test_transform(config().data))
    with caplog.at_level(logging.WARNING):
        assert dataset[4] is None
        assert dataset[4] is None
    assert caplog.text.count(bad.path) == 1
    seen = []
    for batch in train_loader(samples, config(), 2):
        assert batch is not None
        seen += batch[3].tolist()
    assert 4 not in seen and seen  # the pass completed, without the bad file
    test_indices = [i for batch in ConfiguredLoaders(config()).test(samples) for i in batch[3].tolist()]
    assert test_indices == [i for i in range(len(samples)) if i != 4]


def test_a_batch_of_only_unreadable_images_collates_to_none(tmp_path):
    samples = write_tree(tmp_path, ids=2, per_id=2)
    for sample in samples[:2]:
        with open(sample.path, "wb") as handle:
            handle.write(b"")
    batches = batches_of(ConfiguredLoaders(config(test_batch_size=2)).test(samples))
    assert batches[0] is None
    assert batches[1][3].tolist() == [2, 3]
    assert collate_skip_none([None, None]) is None


def test_test_loader_is_ordered_and_deterministic(tmp_path):
    samples = write_tree(tmp_path)
    first = batches_of(ConfiguredLoaders(config()).test(samples))
    second = batches_of(ConfiguredLoaders(config()).test(samples))
    assert [len(b[3]) for b in first] == [5, 5, 5, 5, 4]
    assert torch.cat([b[3] for b in first]).tolist() == list(range(len(samples)))
    assert all(torch.equal(a[0], b[0]) for a, b in zip(first, second))


def view_bank(samples, cfg, batch_size, seed):
    transform = build_perturbation(PerturbConfig(), cfg.data)
    return torch.cat([b[0] for b in build_view_loader(samples, transform, batch_size, seed, ConfiguredLoaders(cfg).options)])


def test_view_loader_views_depend_only_on_the_seed_and_the_image(tmp_path):
    samples = write_tree(tmp_path)
    views = view_bank(samples, config(), 4, seed=3)
    assert views.shape == (len(samples), 3, 32, 16)
    assert torch.equal(views, view_bank(samples, config(), 7, seed=3))  # batch size does not matter
    other = view_bank(samples, config(), 4, seed=4)
    assert not torch.equal(views, other)


def test_view_and_train_loaders_match_across_worker_counts(tmp_path):
    samples = write_tree(tmp_path)
    assert torch.equal(view_bank(samples, config(0), 4, seed=3), view_bank(samples, config(2), 4, seed=3))
    in_process = batches_of(train_loader(samples, config(0), 9))
    in_workers = batches_of(train_loader(samples, config(2), 9))
    for a, b in zip(in_process, in_workers, strict=True):
        assert all(torch.equal(x, y) for x, y in zip(a, b))


def test_empty_split_is_a_dataset_error(tmp_path):
    with pytest.raises(DatasetError, match="empty"):
        ConfiguredLoaders(config()).test([])
