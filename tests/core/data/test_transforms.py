"""Train / test transforms: configured shape, normalised range, and each augmentation's switch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from scing_core.config.schema import DataConfig
from scing_core.data.transforms import build_test_transform, build_train_transform
from scing_core.errors import ConfigError


def gradient_image(height: int = 40, width: int = 20) -> Image.Image:
    """A left-to-right red ramp: not mirror-symmetric, so a flip is visible."""
    pixels = np.zeros((height, width, 3), dtype=np.uint8)
    pixels[..., 0] = np.linspace(0, 255, width, dtype=np.uint8)[None, :]
    pixels[..., 1] = 60
    pixels[..., 2] = np.linspace(255, 0, height, dtype=np.uint8)[:, None]
    return Image.fromarray(pixels)


def no_augment(**changes) -> DataConfig:
    base = dict(image_size=(32, 16), flip_p=0.0, crop_p=0.0, erase_p=0.0)
    base.update(changes)
    return DataConfig(**base)


def test_train_and_test_transforms_give_the_configured_shape_in_the_normalised_range():
    cfg = DataConfig(image_size=(48, 24), mean=(0.4, 0.5, 0.6), std=(0.2, 0.25, 0.3), erase_mode="mean")
    low = (0 - torch.tensor(cfg.mean)) / torch.tensor(cfg.std)
    high = (1 - torch.tensor(cfg.mean)) / torch.tensor(cfg.std)
    torch.manual_seed(0)
    for transform in (build_train_transform(cfg), build_test_transform(cfg)):
        for _ in range(10):
            out = transform(gradient_image(70, 30))
            assert out.shape == (3, 48, 24)
            assert out.dtype == torch.float32
            for channel in range(3):
                assert low[channel] - 1e-5 <= out[channel].min() and out[channel].max() <= high[channel] + 1e-5


def test_test_transform_resizes_bilinearly_as_clipreids_val_transforms():
    from torchvision.transforms import functional as F

    image = gradient_image(70, 30)
    cfg = DataConfig(image_size=(48, 24))
    expected = F.to_tensor(image.resize((24, 48), Image.BILINEAR))
    assert torch.allclose(build_test_transform(cfg)(image), (expected - 0.5) / 0.5, atol=1e-6)


def test_test_transform_normalises_with_the_configured_mean_and_std():
    cfg = DataConfig(image_size=(8, 4), mean=(0.5, 0.4, 0.3), std=(0.5, 0.2, 0.1))
    out = build_test_transform(cfg)(Image.new("RGB", (10, 20), (255, 102, 0)))
    expected = torch.tensor([(1.0 - 0.5) / 0.5, (0.4 - 0.4) / 0.2, (0.0 - 0.3) / 0.1])
    assert torch.allclose(out.mean(dim=(1, 2)), expected, atol=1e-5)


def test_train_transform_with_every_probability_zero_equals_the_test_transform():
    image = gradient_image(32, 16)  # already at image_size: train (bicubic) and test (bilinear) resizes are no-ops
    torch.manual_seed(1)
    assert torch.equal(build_train_transform(no_augment())(image), build_test_transform(no_augment())(image))


def test_flip_probability_one_mirrors_the_image():
    image = gradient_image()
    plain = build_train_transform(no_augment())(image)
    flipped = build_train_transform(no_augment(flip_p=1.0))(image)
    assert torch.equal(flipped, plain.flip(-1))


def test_pad_and_crop_at_probability_one_shifts_the_image():
    image = gradient_image()
    plain = build_train_transform(no_augment())(image)
    crop = build_train_transform(no_augment(crop_p=1.0, pad=4))
    torch.manual_seed(2)
    outs = [crop(image) for _ in range(8)]
    assert all(out.shape == plain.shape for out in outs)
    assert any(not torch.equal(out, plain) for out in outs)


def _erased(mode: str) -> tuple[torch.Tensor, torch.Tensor]:
    image = Image.new("RGB", (16, 32), (250, 10, 200))  # far from the mean in every channel
    plain = build_train_transform(no_augment())(image)
    torch.manual_seed(3)
    erased = build_train_transform(no_augment(erase_p=1.0, erase_mode=mode))(image)
    changed = (erased != plain).any(dim=0)
    assert changed.any()
    rows, cols = changed.nonzero(as_tuple=True)
    box = changed[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    assert box.all()  # one solid rectangle
    return erased, changed


def test_mean_random_erasing_fills_a_rectangle_with_the_mean_colour():
    erased, changed = _erased("mean")
    assert torch.all(erased[:, changed] == 0)  # 0 after normalisation = the mean colour


def test_pixel_random_erasing_fills_a_rectangle_with_per_pixel_noise_as_clipreid():
    erased, changed = _erased("pixel")  # CLIP-ReID: timm RandomErasing(mode='pixel'): N(0, 1) per value
    noise = erased[:, changed]
    assert noise.numel() >= 30 and abs(float(noise.mean())) < 0.5 and 0.6 < float(noise.std()) < 1.4
    assert len(torch.unique(noise)) == noise.numel()  # every value drawn, not one fill colour


def test_unknown_erase_mode_is_a_config_error():
    with pytest.raises(ConfigError, match="data.erase_mode"):
        build_train_transform(no_augment(erase_p=1.0, erase_mode="noise"))


@pytest.mark.parametrize("field,value", [("flip_p", 1.5), ("erase_p", -0.1), ("crop_p", 2.0)])
def test_probability_outside_unit_interval_is_a_config_error_naming_the_key(field, value):
    with pytest.raises(ConfigError, match=f"data.{field}"):
        build_train_transform(no_augment(**{field: value}))


def test_malformed_image_size_or_std_is_a_config_error():
    with pytest.raises(ConfigError, match="image_size"):
        build_test_transform(DataConfig(image_size=(32,)))
    with pytest.raises(ConfigError, match="std"):
        build_test_transform(DataConfig(std=(0.5, 0.0, 0.5)))
