"""PDCA's random perturbation T (paper sec. 4.2) and the occlusion / dropout tools around it.

Image level (:func:`build_perturbation`): resize to ``data.image_size``, then independently, each
with its own probability from :class:`PerturbConfig`:

- flip (``flip_p``): horizontal flip;
- crop (``crop_p``): random-resized crop (``crop_scale`` of the area, aspect near the image's)
  resized back to ``image_size``;
- occlusion (``occlude_p``): paste an occluder covering a random share of the image drawn from
  ``occlude_area`` (default 20-50 %): a rectangle cut from another training image of
  ``occluder_source``, or, without a source (or when the drawn file is unreadable), a synthetic
  pole / box / bush shape (:mod:`scing_core.data.occluders`);
- erasing (``erase_p``): random erasing after normalisation, filled as the train transform's
  (``data.erase_mode``).

The output is normalised exactly like the train transform. Randomness comes from torch's global RNG,
which the loaders seed per item (see ``ImageDataset``), so views are reproducible.

Feature level: :func:`feature_dropout` (``perturb.feature_dropout`` on cached backbone features).
Analysis: :func:`occlude_tensor` occludes a normalised batch by an exact fraction.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import torch
from PIL import Image
from torchvision import transforms as T
from torchvision.transforms import functional as F

from scing_core.config.schema import DataConfig, PerturbConfig
from scing_core.data.image_dataset import open_rgb
from scing_core.data.occluders import synthetic_occluder
from scing_core.data.transforms import check_probability, checked_image_size, normalize, random_erasing, resize
from scing_core.errors import ConfigError, InputError

DEFAULT_OCCLUDE_AREA = (0.2, 0.5)
DEFAULT_CROP_SCALE = (0.6, 1.0)


def _check_range(name: str, bounds: Sequence[float], low: float, high: float) -> tuple[float, float]:
    if len(bounds) != 2 or not low <= bounds[0] <= bounds[1] <= high:
        raise ConfigError(f"{name} must be (min, max) with {low} <= min <= max <= {high}, got {tuple(bounds)}")
    return float(bounds[0]), float(bounds[1])


def _coin(p: float) -> bool:
    return bool(torch.rand(()) < p)


def _uniform(low: float, high: float) -> float:
    return low + (high - low) * torch.rand(()).item()


class Perturbation:
    """Callable PIL image -> normalised tensor; build it with :func:`build_perturbation`."""

    def __init__(self, size: tuple[int, int], flip_p: float, crop_p: float, occlude_p: float, erase_p: float,
                 normalise: T.Normalize, occluder_source: Sequence[str] = (),
                 occlude_area: tuple[float, float] = DEFAULT_OCCLUDE_AREA,
                 crop_scale: tuple[float, float] = DEFAULT_CROP_SCALE, erase: T.RandomErasing | None = None):
        self.size = size
        self.flip_p, self.crop_p, self.occlude_p, self.erase_p = flip_p, crop_p, occlude_p, erase_p
        self.normalise = normalise
        self.occluder_source = list(occluder_source)
        self.occlude_area = occlude_area
        aspect = size[1] / size[0]
        self.resize = resize(size)
        self.crop = T.RandomResizedCrop(size, scale=crop_scale, ratio=(0.75 * aspect, 1.33 * aspect),
                                        interpolation=T.InterpolationMode.BICUBIC)
        self.erase = erase if erase is not None else T.RandomErasing(p=1.0, value=0)

    def __call__(self, image: Image.Image) -> torch.Tensor:
        image = self.resize(image)
        if _coin(self.flip_p):
            image = F.hflip(image)
        if _coin(self.crop_p):
            image = self.crop(image)
        pixels = F.to_tensor(image)
        if _coin(self.occlude_p):
            pixels = self.occlude(pixels)
        pixels = self.normalise(pixels)
        if _coin(self.erase_p):
            pixels = self.erase(pixels)
        return pixels

    def occlude(self, pixels: torch.Tensor) -> torch.Tensor:
        """Paste one occluder over ``pixels`` ([3, H, W] in 0..1) covering a share of ``occlude_area``."""
        height, width = pixels.shape[-2:]
        fraction = _uniform(*self.occlude_area)
        if self.occluder_source:
            path = self.occluder_source[int(torch.randint(len(self.occluder_source), ()))]
            donor = open_rgb(path)
            if donor is not None:
                return _paste_patch(pixels, F.to_tensor(self.resize(donor)), fraction)
        occluder = synthetic_occluder(height, width, fraction)
        return torch.where(occluder.mask, occluder.rgb, pixels)

    def __repr__(self) -> str:
        return (f"Perturbation(size={self.size}, flip_p={self.flip_p}, crop_p={self.crop_p}, "
                f"occlude_p={self.occlude_p}, erase_p={self.erase_p}, occlude_area={self.occlude_area}, "
                f"occluder_source={len(self.occluder_source)} images)")


def _paste_patch(pixels: torch.Tensor, donor: torch.Tensor, fraction: float) -> torch.Tensor:
    """Copy a random rectangle of ``donor`` covering ``fraction`` of the image onto a random place of ``pixels``."""
    height, width = pixels.shape[-2:]
    area = fraction * height * width
    aspect = math.exp(_uniform(math.log(0.3), math.log(3.0)))  # patch width / height
    patch_h = min(height, max(1, round(math.sqrt(area / aspect))))
    patch_w = min(width, max(1, round(area / patch_h)))
    patch_h = min(height, max(1, round(area / patch_w)))  # re-balance after clipping the width
    src_top, src_left = int(torch.randint(height - patch_h + 1, ())), int(torch.randint(width - patch_w + 1, ()))
    dst_top, dst_left = int(torch.randint(height - patch_h + 1, ())), int(torch.randint(width - patch_w + 1, ()))
    out = pixels.clone()
    out[:, dst_top:dst_top + patch_h, dst_left:dst_left + patch_w] = \
        donor[:, src_top:src_top + patch_h, src_left:src_left + patch_w]
    return out


def build_perturbation(perturb_cfg: PerturbConfig, data_cfg: DataConfig, occluder_source: Sequence[str] | None = None,
                       *, occlude_area: tuple[float, float] = DEFAULT_OCCLUDE_AREA,
                       crop_scale: tuple[float, float] = DEFAULT_CROP_SCALE) -> Callable[[Image.Image], torch.Tensor]:
    """PDCA's T: a PIL image -> normalised [3, H, W] tensor perturbation (see the module docstring).

    ``occluder_source``: image paths (e.g. the training split's) to cut occluding patches from;
    None or empty = synthetic occluders only. ``occlude_area``: (min, max) share of the image an
    occluder covers. ``crop_scale``: (min, max) area share kept by the random-resized crop.
    """
    return Perturbation(
        size=checked_image_size(data_cfg),
        flip_p=check_probability("perturb.flip_p", perturb_cfg.flip_p),
        crop_p=check_probability("perturb.crop_p", perturb_cfg.crop_p),
        occlude_p=check_probability("perturb.occlude_p", perturb_cfg.occlude_p),
        erase_p=check_probability("perturb.erase_p", perturb_cfg.erase_p),
        normalise=normalize(data_cfg),
        occluder_source=list(occluder_source or ()),
        occlude_area=_check_range("occlude_area", occlude_area, 0.0, 1.0),
        crop_scale=_check_range("crop_scale", crop_scale, 1e-3, 1.0),
        erase=random_erasing(data_cfg, 1.0),
    )


def occlude_tensor(images: torch.Tensor, fraction: float, generator: torch.Generator | None = None, *,
                   mean: Sequence[float] = (0.5, 0.5, 0.5), std: Sequence[float] = (0.5, 0.5, 0.5)) -> torch.Tensor:
    """A copy of the normalised batch ``images`` [B, 3, H, W] with a synthetic occluder on each image.

    Each occluder (random pole / box / bush) covers ``round(fraction * H * W)`` pixels; its colours are
    normalised with ``mean`` / ``std`` (those the batch was normalised with). ``generator`` (CPU)
    makes the result reproducible; None uses torch's global RNG.
    """
    if images.dim() != 4 or images.shape[1] != 3 or not images.is_floating_point():
        raise InputError(f"occlude_tensor expects a float batch [B, 3, H, W], got {tuple(images.shape)} {images.dtype}")
    if not 0.0 <= fraction <= 1.0:
        raise InputError(f"occluded fraction must be in [0, 1], got {fraction}")
    height, width = images.shape[-2:]
    mean_t = torch.tensor(mean, dtype=torch.float32).view(3, 1, 1)
    std_t = torch.tensor(std, dtype=torch.float32).view(3, 1, 1)
    out = images.clone()
    for b in range(images.shape[0]):
        occluder = synthetic_occluder(height, width, fraction, generator)
        colours = ((occluder.rgb - mean_t) / std_t).to(device=images.device, dtype=images.dtype)
        out[b] = torch.where(occluder.mask.to(images.device), colours, out[b])
    return out


def feature_dropout(x: torch.Tensor, p: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Train-mode dropout of ``x``: zero each element with probability ``p``, scale the rest by 1/(1-p).

    Same expectation as ``torch.nn.functional.dropout(x, p, training=True)``; with ``generator`` the
    mask is reproducible (drawn on the generator's device, then moved to ``x``'s).
    """
    if not 0.0 <= p <= 1.0:
        raise InputError(f"dropout probability must be in [0, 1], got {p}")
    if p == 0.0:
        return x
    if p == 1.0:
        return torch.zeros_like(x)
    device = generator.device if generator is not None else x.device
    keep = torch.rand(x.shape, generator=generator, device=device) >= p
    return x * keep.to(device=x.device, dtype=x.dtype) / (1.0 - p)
