"""Where models run: a device name from the config or the CLI, resolved against this machine."""

from __future__ import annotations

import torch

from scing_core.errors import ConfigError


def resolve_device(name: str) -> torch.device:
    """``auto`` (CUDA when available, else the CPU), ``cpu``, ``cuda`` or ``cuda:N``; a ConfigError when
    CUDA is asked for on a machine without it."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device '{name}' was asked for but CUDA is not available here; use device=cpu or device=auto")
    return device
