"""extract_features: loader order, paths, skipped batches, flip averaging, eval mode."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from scing_core.errors import InputError
from scing_core.evaluation import FeatureSet, extract_features


class Sample(NamedTuple):
    path: str
    pid: int
    camid: int


class TinyImages(Dataset):
    """4x6 RGB images whose content identifies them; ``unreadable`` indices come back as None."""

    def __init__(self, count: int, unreadable: set[int] = frozenset()):
        self.samples = [Sample(f"/data/img_{i:03d}.jpg", 100 + i // 2, i % 3) for i in range(count)]
        self.unreadable = unreadable

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, index):
        if index in self.unreadable:
            return None
        generator = torch.Generator().manual_seed(index)
        image = torch.rand(3, 4, 6, generator=generator)
        return image, self.samples[index].pid, self.samples[index].camid, index


def skip_none(items):
    items = [item for item in items if item is not None]
    return torch.utils.data.default_collate(items) if items else None


class TinyReID(nn.Module):
    """model(images, cams) -> (B, 5); dropout makes train mode visible; records calls."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(3 * 4 * 6, 4)
        self.dropout = nn.Dropout(0.9)
        self.modes = []

    def forward(self, images, cams):
        self.modes.append(self.training)
        features = self.dropout(self.linear(images.flatten(1)))
        return torch.cat([features, cams[:, None].float()], dim=1)


def loader(count=10, batch_size=3, unreadable=frozenset()):
    return DataLoader(TinyImages(count, set(unreadable)), batch_size=batch_size, collate_fn=skip_none)


def test_features_pids_camids_and_paths_follow_the_loader_and_skip_unreadable_images():
    model = TinyReID()
    result = extract_features(model, loader(unreadable={4, 6, 7, 8}), progress=False)  # batch 6..8 is None
    kept = [0, 1, 2, 3, 5, 9]
    assert isinstance(result, FeatureSet) and len(result) == 6
    assert result.features.dtype == torch.float32 and result.features.device.type == "cpu"
    assert result.paths == [f"/data/img_{i:03d}.jpg" for i in kept]
    np.testing.assert_array_equal(result.pids, [100 + i // 2 for i in kept])
    np.testing.assert_array_equal(result.camids, [i % 3 for i in kept])
    np.testing.assert_array_equal(result.features[:, 4].numpy(), [i % 3 for i in kept])  # cams reached the model


def test_descriptors_equal_a_direct_eval_mode_forward_pass():
    model = TinyReID()
    result = extract_features(model, loader(count=5), progress=False)
    images = torch.stack([TinyImages(5)[i][0] for i in range(5)])
    model.eval()
    with torch.no_grad():
        expected = model(images, torch.tensor([i % 3 for i in range(5)]))
    torch.testing.assert_close(result.features, expected)


def test_flip_averages_the_descriptors_of_the_image_and_its_mirror():
    model = TinyReID()
    flipped = extract_features(model, loader(count=4), flip=True, progress=False)
    images = torch.stack([TinyImages(4)[i][0] for i in range(4)])
    cams = torch.tensor([i % 3 for i in range(4)])
    model.eval()
    with torch.no_grad():
        expected = (model(images, cams) + model(torch.flip(images, dims=[3]), cams)) / 2
    torch.testing.assert_close(flipped.features, expected)
    assert not torch.allclose(flipped.features, extract_features(model, loader(count=4), progress=False).features)


def test_the_model_runs_in_eval_mode_and_gets_its_training_mode_back():
    model = TinyReID()
    model.train()
    extract_features(model, loader(count=4), progress=False)
    assert model.modes and not any(model.modes)
    assert model.training


def test_features_are_computed_without_autograd():
    model = TinyReID()
    result = extract_features(model, loader(count=3), progress=False)
    assert not result.features.requires_grad
    assert (result.features * 2).sum().item() == pytest.approx(2 * result.features.sum().item())


def test_a_loader_with_no_readable_image_is_an_input_error():
    with pytest.raises(InputError, match="no readable image"):
        extract_features(TinyReID(), loader(count=3, unreadable={0, 1, 2}), progress=False)


def test_a_model_returning_the_wrong_shape_is_an_input_error():
    class Bad(nn.Module):
        def forward(self, images, cams):
            return images

    with pytest.raises(InputError, match=r"must return a \(3, F\) tensor"):
        extract_features(Bad(), loader(count=3), progress=False)


def test_a_loader_without_samples_is_an_input_error():
    plain = DataLoader([(torch.zeros(3, 4, 6), 1, 0, 0)], batch_size=1)
    with pytest.raises(InputError, match="loader.dataset.samples is missing"):
        extract_features(TinyReID(), plain, progress=False)


def test_feature_set_fields_must_describe_the_same_images():
    with pytest.raises(InputError, match="different lengths"):
        FeatureSet(torch.zeros(3, 2), np.zeros(3), np.zeros(2), ["a", "b", "c"])
