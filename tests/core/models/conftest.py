"""Fixtures for the model tests: the tiny `scing-tiny` CLIP at 64x32 (a 4x2 patch grid at stride 16)."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from scing_core.config.schema import DataConfig, ModelConfig, TrainConfig

TINY_SIZE = (64, 32)


def tiny_config(**model_fields) -> TrainConfig:
    """A TrainConfig for scing-tiny at 64x32 with the given ModelConfig fields changed."""
    model = dataclasses.replace(ModelConfig(), **{"arch": "scing-tiny", "pretrained": "", **model_fields})
    return TrainConfig(model=model, data=dataclasses.replace(DataConfig(), image_size=TINY_SIZE))


@pytest.fixture
def images() -> torch.Tensor:
    generator = torch.Generator().manual_seed(0)
    return torch.randn(4, 3, *TINY_SIZE, generator=generator)


@pytest.fixture
def labels() -> torch.Tensor:
    return torch.tensor([0, 1, 2, 1])


@pytest.fixture
def cams() -> torch.Tensor:
    return torch.tensor([0, 1, 2, 0])
