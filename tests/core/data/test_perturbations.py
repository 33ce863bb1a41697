"""PDCA perturbation T, synthetic occluders, occlude_tensor and feature dropout."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
from PIL import Image

from scing_core.config.schema import DataConfig, PerturbConfig
from scing_core.data.occluders import OCCLUDER_KINDS, synthetic_occluder
from scing_core.data.perturbations import build_perturbation, feature_dropout, occlude_tensor
from scing_core.data.transforms import build_test_transform
from scing_core.errors import ConfigError, InputError

DATA = DataConfig(image_size=(32, 16))
MAGENTA = (255, 0, 255)  # no occluder texture has a zero green channel


def ramp_image() -> Image.Image:
    pixels = np.zeros((32, 16, 3), dtype=np.uint8)
    pixels[..., 0] = np.linspace(0, 255, 16, dtype=np.uint8)[None, :]
    pixels[..., 1] = np.linspace(0, 255, 32, dtype=np.uint8)[:, None]
    pixels[..., 2] = 90
    return Image.fromarray(pixels)


def only(**probabilities) -> PerturbConfig:
    base = dict(flip_p=0.0, erase_p=0.0, crop_p=0.0, occlude_p=0.0)
    base.update(probabilities)
    return PerturbConfig(**base)


def test_no_perturbation_fires_at_probability_zero():
    image = ramp_image()
    reference = build_test_transform(DATA)(image)
    perturb = build_perturbation(only(), DATA)
    torch.manual_seed(0)
    for _ in range(20):
        assert torch.equal(perturb(image), reference)


@pytest.mark.parametrize("op", ["flip_p", "erase_p", "crop_p", "occlude_p"])
def test_each_perturbation_fires_at_probability_one(op):
    image = ramp_image()
    reference = build_test_transform(DATA)(image)
    perturb = build_perturbation(only(**{op: 1.0}), DATA)
    torch.manual_seed(1)
    for _ in range(5):
        out = perturb(image)
        assert out.shape == reference.shape
        assert not torch.equal(out, reference)


def test_flip_perturbation_mirrors_the_image():
    image = ramp_image()
    out = build_perturbation(only(flip_p=1.0), DATA)(image)
    assert torch.equal(out, build_test_transform(DATA)(image).flip(-1))


def test_synthetic_occlusion_covers_the_configured_share_of_the_image():
    image = Image.new("RGB", (16, 32), MAGENTA)
    reference = build_test_transform(DATA)(image)
    perturb = build_perturbation(only(occlude_p=1.0), DATA, occlude_area=(0.25, 0.4))
    torch.manual_seed(2)
    for _ in range(10):
        covered = (perturb(image) != reference).any(dim=0).float().mean().item()
        assert 0.25 - 0.01 <= covered <= 0.4 + 0.01


def test_occlusion_pastes_a_patch_of_a_source_image(tmp_path):
    donor = tmp_path / "donor.png"
    Image.new("RGB", (16, 32), (0, 0, 255)).save(donor)
    image = Image.new("RGB", (16, 32), MAGENTA)
    perturb = build_perturbation(only(occlude_p=1.0), DATA, occluder_source=[str(donor)])
    torch.manual_seed(3)
    out = perturb(image)
    blue = build_test_transform(DATA)(Image.new("RGB", (1, 1), (0, 0, 255)))[:, 0, 0]
    pasted = (out == blue.view(3, 1, 1)).all(dim=0)
    changed = (out != build_test_transform(DATA)(image)).any(dim=0)
    assert torch.equal(pasted, changed)
    assert 0.15 <= pasted.float().mean().item() <= 0.55


def test_unreadable_occluder_source_falls_back_to_a_synthetic_occluder(tmp_path, caplog):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    image = Image.new("RGB", (16, 32), MAGENTA)
    perturb = build_perturbation(only(occlude_p=1.0), DATA, occluder_source=[str(broken)])
    with caplog.at_level(logging.WARNING):
        out = perturb(image)
    assert not torch.equal(out, build_test_transform(DATA)(image))
    assert str(broken) in caplog.text


def test_perturbation_output_is_reproducible_from_the_torch_seed():
    image = ramp_image()
    perturb = build_perturbation(PerturbConfig(), DATA)
    torch.manual_seed(4)
    first = [perturb(image) for _ in range(4)]
    torch.manual_seed(4)
    second = [perturb(image) for _ in range(4)]
    assert all(torch.equal(a, b) for a, b in zip(first, second))


def test_bad_perturbation_settings_are_config_errors():
    with pytest.raises(ConfigError, match="perturb.occlude_p"):
        build_perturbation(only(occlude_p=1.2), DATA)
    with pytest.raises(ConfigError, match="occlude_area"):
        build_perturbation(only(), DATA, occlude_area=(0.6, 0.2))


@pytest.mark.parametrize("kind", OCCLUDER_KINDS)
def test_synthetic_occluders_cover_exactly_the_requested_pixels(kind):
    generator = torch.Generator().manual_seed(5)
    for fraction in (0.0, 0.05, 0.33, 0.6, 1.0):
        occluder = synthetic_occluder(64, 32, fraction, generator, kind)
        assert occluder.mask.sum().item() == round(fraction * 64 * 32)
        assert occluder.rgb.shape == (3, 64, 32)
        assert 0.0 <= occluder.rgb.min() and occluder.rgb.max() <= 1.0


@pytest.mark.parametrize("fraction", [0.0, 0.1, 0.3, 0.6])
def test_occlude_tensor_covers_the_requested_fraction_of_each_image(fraction):
    images = torch.empty(6, 3, 64, 32)
    images[:, 0], images[:, 1], images[:, 2] = 1.0, -1.0, 1.0  # magenta, normalised with 0.5 / 0.5
    out = occlude_tensor(images, fraction, torch.Generator().manual_seed(6))
    covered = (out != images).any(dim=1).float().mean(dim=(1, 2))
    assert torch.allclose(covered, torch.full((6,), fraction), atol=0.005)
    assert out.min() >= -1.0 and out.max() <= 1.0


def test_occlude_tensor_is_deterministic_given_the_generator_and_leaves_its_input_alone():
    images = torch.randn(3, 3, 32, 16)
    before = images.clone()
    first = occlude_tensor(images, 0.4, torch.Generator().manual_seed(7))
    second = occlude_tensor(images, 0.4, torch.Generator().manual_seed(7))
    other = occlude_tensor(images, 0.4, torch.Generator().manual_seed(8))
    assert torch.equal(first, second)
    assert not torch.equal(first, other)
    assert torch.equal(images, before)


def test_occlude_tensor_rejects_a_non_batch_input():
    with pytest.raises(InputError, match=r"\[B, 3, H, W\]"):
        occlude_tensor(torch.zeros(3, 32, 16), 0.2)


def test_feature_dropout_zeroes_about_p_and_keeps_the_expectation():
    x = torch.ones(200_000)
    out = feature_dropout(x, 0.5, torch.Generator().manual_seed(9))
    assert abs((out == 0).float().mean().item() - 0.5) < 0.01
    assert abs(out.mean().item() - 1.0) < 0.01
    assert torch.all((out == 0) | (out == 2.0))
    out_low = feature_dropout(x, 0.2, torch.Generator().manual_seed(9))
    assert abs((out_low == 0).float().mean().item() - 0.2) < 0.01
    assert abs(out_low.mean().item() - 1.0) < 0.01


def test_feature_dropout_is_deterministic_given_a_generator():
    x = torch.randn(8, 512)
    first = feature_dropout(x, 0.5, torch.Generator().manual_seed(10))
    assert torch.equal(first, feature_dropout(x, 0.5, torch.Generator().manual_seed(10)))
    assert not torch.equal(first, feature_dropout(x, 0.5, torch.Generator().manual_seed(11)))
    assert feature_dropout(x, 0.0) is x
    assert torch.equal(feature_dropout(x, 1.0), torch.zeros_like(x))
    with pytest.raises(InputError):
        feature_dropout(x, 1.5)
