"""Train and test image transforms (torchvision), configured by :class:`DataConfig`.

Train, as CLIP-ReID: resize to ``image_size`` (bicubic) -> horizontal flip (``flip_p``) -> pad by
``pad`` pixels + random crop back to ``image_size`` (applied with ``crop_p``) -> ToTensor ->
normalise with ``mean`` / ``std`` -> random erasing (``erase_p``).

Random erasing runs after normalisation and fills the erased rectangle with 0, which in normalised
space is the dataset mean colour: the same "mean-filled" erasing as CLIP-ReID's reid-strong-baseline
lineage, and always inside the normalised value range (``(0 - mean) / std .. (1 - mean) / std``).

Test: resize (bicubic) -> ToTensor -> normalise.
"""

from __future__ import annotations

from torchvision import transforms as T

from scing_core.config.schema import DataConfig
from scing_core.errors import ConfigError


def check_probability(name: str, value: float) -> float:
    """``value`` if it is a probability, else a ConfigError naming the config key."""
    if not 0.0 <= float(value) <= 1.0:
        raise ConfigError(f"{name} must be a probability in [0, 1], got {value}; fix it in the config")
    return float(value)


def checked_image_size(data_cfg: DataConfig) -> tuple[int, int]:
    """``data_cfg.image_size`` as ``(height, width)`` ints, or a ConfigError."""
    size = tuple(data_cfg.image_size)
    if len(size) != 2 or any(not isinstance(side, int) or side < 1 for side in size):
        raise ConfigError(f"data.image_size must be two positive integers (height, width), got {data_cfg.image_size}")
    return int(size[0]), int(size[1])


def normalize(data_cfg: DataConfig) -> T.Normalize:
    """The normalisation every transform ends with (``data.mean`` / ``data.std``)."""
    if len(data_cfg.mean) != 3 or len(data_cfg.std) != 3:
        raise ConfigError(f"data.mean and data.std need 3 values (RGB), got {data_cfg.mean} and {data_cfg.std}")
    if any(s <= 0 for s in data_cfg.std):
        raise ConfigError(f"data.std values must be positive, got {data_cfg.std}")
    return T.Normalize(mean=list(data_cfg.mean), std=list(data_cfg.std))


def resize(size: tuple[int, int]) -> T.Resize:
    """Bicubic resize to exactly ``(height, width)`` (CLIP-ReID's interpolation=3)."""
    return T.Resize(size, interpolation=T.InterpolationMode.BICUBIC)


def build_train_transform(data_cfg: DataConfig) -> T.Compose:
    """PIL image -> normalised [3, H, W] tensor with CLIP-ReID's training augmentations."""
    size = checked_image_size(data_cfg)
    if data_cfg.pad < 0:
        raise ConfigError(f"data.pad must be >= 0, got {data_cfg.pad}")
    crop_p = check_probability("data.crop_p", data_cfg.crop_p)
    pad_and_crop = T.RandomApply([T.Pad(data_cfg.pad), T.RandomCrop(size)], p=crop_p)
    return T.Compose([
        resize(size),
        T.RandomHorizontalFlip(p=check_probability("data.flip_p", data_cfg.flip_p)),
        pad_and_crop,
        T.ToTensor(),
        normalize(data_cfg),
        T.RandomErasing(p=check_probability("data.erase_p", data_cfg.erase_p), value=0),
    ])


def build_test_transform(data_cfg: DataConfig) -> T.Compose:
    """PIL image -> normalised [3, H, W] tensor, no randomness."""
    return T.Compose([resize(checked_image_size(data_cfg)), T.ToTensor(), normalize(data_cfg)])
