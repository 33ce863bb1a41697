"""Seeding and the RNG state: the run's seed, the per-epoch seeds, and the RNG states a checkpoint
carries beyond the weights (capture / restore). The checkpoint files: :mod:`scing_core.runs.checkpoints`."""

from __future__ import annotations

import random

import numpy as np
import torch


def capture_rng() -> dict:
    """RNG states as plain tensors / tuples."""
    np_state = np.random.get_state()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": [np_state[0], torch.from_numpy(np_state[1].copy()), int(np_state[2]), int(np_state[3]), float(np_state[4])],
        "python": random.getstate(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    py = state["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def epoch_seed(seed: int, stage: int, epoch: int) -> int:
    """A seed that depends only on (seed, stage, epoch), never on when the process started."""
    return (seed * 1_000_003 + stage * 10_007 + epoch) % (2**31 - 1)
