"""Shared input checks and the float32 guard used by every loss in this package.

Checks look at shapes and dtypes only (free on any device); they never read tensor values, which
would force a GPU synchronisation on every training step.
"""

from __future__ import annotations

import contextlib
import numbers
from typing import Iterator

import torch

from scing_core.errors import InputError


@contextlib.contextmanager
def full_precision(device: torch.device) -> Iterator[None]:
    """Run the enclosed code with autocast disabled on ``device``.

    Losses compare L2-normalised features whose cosines are multiplied by large logit scales
    (CLIP's is 100); a bf16 matmul would round those cosines to about three digits. Inputs are cast
    to float32 by the caller inside this block.
    """
    try:
        guard = torch.autocast(device_type=device.type, enabled=False)
    except RuntimeError:  # a device type autocast does not know: nothing to disable
        guard = contextlib.nullcontext()
    with guard:
        yield


def check_features(name: str, features: torch.Tensor, where: str) -> torch.Tensor:
    """Return ``features`` as float32 after checking it is a 2-D floating tensor ``[N, E]``."""
    if not isinstance(features, torch.Tensor):
        raise InputError(f"{where}: `{name}` must be a torch.Tensor of shape [N, E], got {type(features).__name__}")
    if features.dim() != 2 or not features.is_floating_point():
        raise InputError(
            f"{where}: `{name}` must be a floating tensor of shape [N, E], got dtype {features.dtype} "
            f"and shape {tuple(features.shape)}; flatten per-sample features to one row each"
        )
    return features.float()


def check_labels(name: str, labels: torch.Tensor, count: int, device: torch.device, where: str) -> torch.Tensor:
    """Return integer ``labels`` of shape ``[count]`` on ``device``."""
    if not isinstance(labels, torch.Tensor) or labels.dim() != 1 or labels.is_floating_point():
        shape = tuple(labels.shape) if isinstance(labels, torch.Tensor) else type(labels).__name__
        raise InputError(f"{where}: `{name}` must be a 1-D integer tensor of identity labels, got {shape}")
    if labels.shape[0] != count:
        raise InputError(
            f"{where}: `{name}` has {labels.shape[0]} labels but the features have {count} rows; "
            "pass one label per feature row"
        )
    return labels.to(device)


def check_same_width(first: tuple[str, torch.Tensor], second: tuple[str, torch.Tensor], where: str) -> None:
    """Check that two ``[N, E]`` feature sets share the embedding width ``E``."""
    (name_a, a), (name_b, b) = first, second
    if a.shape[1] != b.shape[1]:
        raise InputError(
            f"{where}: `{name_a}` has width {a.shape[1]} but `{name_b}` has width {b.shape[1]}; "
            "both must live in the same embedding space (use the projected features on both sides)"
        )


def masked_mean(values: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """Mean of ``values`` where ``keep`` is true; 0 (still part of the graph) when nothing is kept.

    Avoids a host synchronisation: the count is clamped on the device instead of branching on it.
    """
    kept = torch.where(keep, values, torch.zeros_like(values))
    return kept.sum() / keep.sum().clamp_min(1).to(values.dtype)


def as_scale(logit_scale: float | torch.Tensor, device: torch.device, where: str) -> torch.Tensor | float:
    """Validate a logit multiplier (a float or a 0-d / 1-element tensor) and return it in float32."""
    if isinstance(logit_scale, torch.Tensor):
        if logit_scale.numel() != 1:
            raise InputError(f"{where}: `logit_scale` must be a scalar, got shape {tuple(logit_scale.shape)}")
        return logit_scale.float().reshape(()).to(device)
    if isinstance(logit_scale, bool) or not isinstance(logit_scale, numbers.Real) or not logit_scale > 0:
        raise InputError(
            f"{where}: `logit_scale` must be a positive number (the multiplier, e.g. CLIP's "
            f"logit_scale.exp() = 100), got {logit_scale!r}"
        )
    return float(logit_scale)
