"""Resizing grid positional embeddings (ViT patch grid, ResNet attention-pool grid).

A positional embedding here is ``[prefix + gh * gw, width]``: ``prefix`` tokens (the CLS
position, kept as is) followed by one row per grid cell in row-major order. Resizing
interpolates the grid part bilinearly (as CLIP-ReID does) to a new ``(gh, gw)``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from scing_core.errors import CheckpointError


def resize_grid_embedding(
    pos_embed: torch.Tensor, old_grid: tuple[int, int], new_grid: tuple[int, int], num_prefix: int = 1
) -> torch.Tensor:
    """Bilinearly resize the grid part of ``pos_embed`` from ``old_grid`` to ``new_grid``; prefix rows kept."""
    old_grid, new_grid = tuple(old_grid), tuple(new_grid)
    if old_grid == new_grid:
        return pos_embed.clone()
    prefix, grid = pos_embed[:num_prefix], pos_embed[num_prefix:]
    if grid.shape[0] != old_grid[0] * old_grid[1]:
        raise ValueError(f"positional embedding has {grid.shape[0]} grid rows, not {old_grid[0]}x{old_grid[1]}")
    width = grid.shape[-1]
    image = grid.float().reshape(1, old_grid[0], old_grid[1], width).permute(0, 3, 1, 2)
    image = F.interpolate(image, size=new_grid, mode="bilinear", align_corners=False)
    grid = image.permute(0, 2, 3, 1).reshape(new_grid[0] * new_grid[1], width).to(pos_embed.dtype)
    return torch.cat([prefix, grid], dim=0)


def infer_grid(num_cells: int, like: tuple[int, int]) -> tuple[int, int]:
    """Guess the ``(gh, gw)`` a positional embedding with ``num_cells`` grid rows was saved at.

    Exact match of ``like``'s cell count first, then a square grid (how CLIP is pre-trained),
    then the factorisation whose aspect ratio is closest to ``like``'s.
    """
    if num_cells == like[0] * like[1]:
        return tuple(like)
    side = math.isqrt(num_cells)
    if side * side == num_cells:
        return side, side
    target = math.log(like[0] / like[1])
    pairs = [(h, num_cells // h) for h in range(1, num_cells + 1) if num_cells % h == 0]
    if not pairs:
        raise CheckpointError(f"cannot interpret a positional embedding with {num_cells} grid positions")
    return min(pairs, key=lambda hw: abs(math.log(hw[0] / hw[1]) - target))
