"""Train and test image transforms (torchvision), configured by :class:`DataConfig`.

Train, as CLIP-ReID: resize to ``image_size`` (bicubic) -> horizontal flip (``flip_p``) -> pad by
``pad`` pixels + random crop back to ``image_size`` (applied with ``crop_p``) -> ToTensor ->
normalise with ``mean`` / ``std`` -> random erasing (``erase_p``).

Random erasing runs after normalisation. ``erase_mode="pixel"`` (the default) fills the erased
rectangle with per-pixel N(0, 1) noise, as CLIP-ReID's timm ``RandomErasing(mode='pixel')``
(area 2-33 %, aspect 0.3-3.3); ``"mean"`` fills it with 0, the dataset mean colour in normalised
space (the reid-strong-baseline's mean-filled erasing).

Test: resize (bilinear, as CLIP-ReID's ``val_transforms``, which also feed its stage-1 cache) ->
ToTensor -> normalise.
"""

from __future__ import annotations

from torchvision import transforms as T

from scing_core.config.checks import CHOICES
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


ERASE_MODES = CHOICES["data.erase_mode"]


def random_erasing(data_cfg: DataConfig, p: float) -> T.RandomErasing:
    """Random erasing with probability ``p``, filled per ``data.erase_mode`` (see the module docstring)."""
    if data_cfg.erase_mode not in ERASE_MODES:
        raise ConfigError(f"data.erase_mode must be one of {', '.join(ERASE_MODES)}, got '{data_cfg.erase_mode}'")
    return T.RandomErasing(p=p, value="random" if data_cfg.erase_mode == "pixel" else 0)


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
        random_erasing(data_cfg, check_probability("data.erase_p", data_cfg.erase_p)),
    ])


def build_test_transform(data_cfg: DataConfig) -> T.Compose:
    """PIL image -> normalised [3, H, W] tensor, no randomness (bilinear resize, as CLIP-ReID's test)."""
    size = checked_image_size(data_cfg)
    return T.Compose([T.Resize(size, interpolation=T.InterpolationMode.BILINEAR), T.ToTensor(), normalize(data_cfg)])
