"""Synthetic occluders: pole, box and bush shapes that cover an exact share of an image.

An occluder is drawn on a full canvas of the target image's size: a boolean ``mask`` [H, W] and an
``rgb`` texture [3, H, W] in 0..1. Its area is fitted to the requested fraction to the pixel
(``round(fraction * H * W)`` pixels), so robustness sweeps over "occluded fraction" mean what they say.

Shapes are described column by column: each occluded column ``x`` covers rows
``top[x] .. top[x] + height[x] - 1``. Fitting the area is then a matter of scaling a height profile:

- ``pole``: a near full-height vertical bar (a lamp post, a sign);
- ``box``: a flat-topped rectangle at a random height (a car, a bin, a parcel);
- ``bush``: a bumpy mound rising from the bottom edge (vegetation, a low wall).

All randomness comes from an optional ``torch.Generator`` (``None`` = torch's global RNG, which is
what DataLoader workers seed), so the same generator state gives the same occluder.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from scing_core.errors import InputError

OCCLUDER_KINDS: tuple[str, ...] = ("pole", "box", "bush")


class Occluder(NamedTuple):
    """A drawn occluder: ``mask`` [H, W] bool (True = covered), ``rgb`` [3, H, W] float in 0..1."""

    mask: torch.Tensor
    rgb: torch.Tensor


def _uniform(low: float, high: float, generator: torch.Generator | None) -> float:
    return low + (high - low) * torch.rand((), generator=generator).item()


def _randint(low: int, high: int, generator: torch.Generator | None) -> int:
    """An integer in [low, high] (inclusive)."""
    return int(torch.randint(low, high + 1, (), generator=generator).item())


def fit_heights(profile: torch.Tensor, target: int, max_height: int) -> torch.Tensor:
    """Integer column heights proportional to ``profile`` (clipped at ``max_height``) summing to ``target``.

    Finds the scale ``c`` with ``sum(min(max_height, c * profile)) == target`` by bisection, floors,
    then hands the leftover pixels to the columns with the largest fractional parts.
    """
    profile = profile.clamp(min=1e-6).double()
    capacity = max_height * profile.numel()
    if target >= capacity:
        return torch.full(profile.shape, max_height, dtype=torch.long)
    low, high = 0.0, max_height / profile.min().item()
    for _ in range(60):
        mid = 0.5 * (low + high)
        if (mid * profile).clamp(max=max_height).sum().item() < target:
            low = mid
        else:
            high = mid
    exact = (high * profile).clamp(max=max_height)
    heights = exact.floor().long()
    leftover = target - int(heights.sum().item())
    if leftover > 0:
        room = heights < max_height
        fraction = torch.where(room, exact - heights.double(), torch.full_like(exact, -1.0))
        heights[torch.argsort(fraction, descending=True)[:leftover]] += 1
    elif leftover < 0:  # float rounding overshoot: trim the tallest columns
        heights[torch.argsort(heights, descending=True)[:-leftover]] -= 1
    return heights


def _columns_for(target: int, height: int, width: int, min_share: float, max_share: float,
                 generator: torch.Generator | None) -> int:
    """How many columns a shape spans: random share of ``width``, wide enough to hold ``target``."""
    columns = max(1, round(width * _uniform(min_share, max_share, generator)))
    needed = math.ceil(target / height) if target else 1
    return min(width, max(columns, needed))


def _column_mask(top: torch.Tensor, heights: torch.Tensor, left: int, height: int, width: int) -> torch.Tensor:
    rows = torch.arange(height).unsqueeze(1)
    full_top = torch.zeros(width, dtype=torch.long)
    full_height = torch.zeros(width, dtype=torch.long)
    full_top[left:left + top.numel()] = top
    full_height[left:left + heights.numel()] = heights
    return (rows >= full_top) & (rows < full_top + full_height)


def _pole_geometry(target, height, width, generator):
    columns = min(width, max(1, math.ceil(target / height)))  # as narrow as possible: full height
    heights = fit_heights(torch.ones(columns), target, height)
    left = _randint(0, width - columns, generator)
    return left, height - heights, heights  # anchored at the bottom; full height when wide enough


def _box_geometry(target, height, width, generator):
    columns = _columns_for(target, height, width, 0.45, 1.0, generator)
    heights = fit_heights(torch.ones(columns), target, height)
    left = _randint(0, width - columns, generator)
    box_height = int(heights.max().item())
    top_row = _randint(0, height - box_height, generator)  # flat top: every column starts on this row
    return left, torch.full((columns,), top_row, dtype=torch.long), heights


def _bush_geometry(target, height, width, generator):
    columns = _columns_for(target, height, width, 0.55, 1.0, generator)
    x = torch.linspace(0.0, 1.0, columns, dtype=torch.float64)
    profile = 0.35 + torch.sin(math.pi * x) * 0.65  # a mound, lower at the sides
    for _ in range(3):  # a few leafy bumps
        centre = _uniform(0.0, 1.0, generator)
        spread = _uniform(0.05, 0.2, generator)
        profile = profile + 0.3 * torch.exp(-((x - centre) / spread) ** 2)
    heights = fit_heights(profile, target, height)
    left = _randint(0, width - columns, generator)
    return left, height - heights, heights


_GEOMETRY = {"pole": _pole_geometry, "box": _box_geometry, "bush": _bush_geometry}


def _span(covered: torch.Tensor) -> tuple[int, int]:
    """First and last True position of a 1-D bool tensor ((0, 0) when none)."""
    hits = covered.nonzero()
    return (int(hits[0]), int(hits[-1])) if hits.numel() else (0, 0)


def _texture(kind: str, mask: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """A plausible fill for ``kind`` laid out on the shape's bounding box: shaded metal, a painted
    panel with a darker band, or leafy green noise."""
    height, width = mask.shape
    top, bottom = _span(mask.any(dim=1))
    left, right = _span(mask.any(dim=0))
    rows = torch.arange(height, dtype=torch.float32).view(1, height, 1)
    cols = torch.arange(width, dtype=torch.float32).view(1, 1, width)
    across = (cols - left) / max(1, right - left)  # 0..1 over the shape's width
    down = (rows - top) / max(1, bottom - top)      # 0..1 over its height
    if kind == "pole":
        grey = _uniform(0.25, 0.7, generator)
        base = torch.tensor([grey, grey, grey * _uniform(0.9, 1.1, generator)]).view(3, 1, 1)
        shade = 0.7 + 0.3 * torch.cos(2.4 * (across - 0.5))  # cylindrical highlight
        return (base * shade).expand(3, height, width).clamp(0, 1).contiguous()
    if kind == "box":
        base = (torch.rand(3, generator=generator) * 0.8 + 0.1).view(3, 1, 1)
        band = ((down > 0.15) & (down < 0.3)).float()  # a darker stripe (window, trim)
        panel = base * (1.0 - 0.25 * down) * (1.0 - 0.4 * band)
        return panel.expand(3, height, width).clamp(0, 1).contiguous()
    green = torch.tensor([_uniform(0.05, 0.25, generator), _uniform(0.3, 0.6, generator),
                          _uniform(0.05, 0.25, generator)]).view(3, 1, 1)
    noise = torch.rand(1, height, width, generator=generator)
    return (green * (0.6 + 0.6 * noise)).clamp(0, 1)


def synthetic_occluder(height: int, width: int, fraction: float, generator: torch.Generator | None = None,
                       kind: str | None = None) -> Occluder:
    """Draw a ``kind`` occluder (random kind when None) covering ``round(fraction*H*W)`` pixels.

    Tensors are on the CPU; ``generator`` (a CPU generator) makes the draw reproducible.
    """
    if not 0.0 <= fraction <= 1.0:
        raise InputError(f"occluder fraction must be in [0, 1], got {fraction}")
    if height < 1 or width < 1:
        raise InputError(f"occluder canvas must be at least 1x1 pixels, got {height}x{width}")
    if kind is None:
        kind = OCCLUDER_KINDS[_randint(0, len(OCCLUDER_KINDS) - 1, generator)]
    if kind not in _GEOMETRY:
        raise InputError(f"unknown occluder kind '{kind}'; use one of {', '.join(OCCLUDER_KINDS)}")
    target = round(fraction * height * width)
    left, top, heights = _GEOMETRY[kind](target, height, width, generator)
    mask = _column_mask(top, heights, left, height, width)
    return Occluder(mask=mask, rgb=_texture(kind, mask, generator))
