"""Atomic checkpoints with full state, as plain data (loadable with ``weights_only=True``).

A checkpoint is a dict: ``model`` (state_dict), ``optimizer``, ``scaler``, ``rng``, ``stage``,
``epoch`` (next epoch to run), ``step_in_epoch`` (batches of that epoch already done, >0 only after a
stop), ``best`` (best mAP so far), ``config`` (resolved config as a plain dict), ``version``.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import torch

from scing_core.atomic import atomic_open
from scing_core.errors import CheckpointError

CHECKPOINT_VERSION = 1


def save_checkpoint(state: dict, path) -> Path:
    """Write ``state`` to a temp file in the same folder, then ``os.replace`` it onto ``path``."""
    path = Path(path)
    with atomic_open(path, "wb") as fh:
        torch.save({"version": CHECKPOINT_VERSION, **state}, fh)
    return path


def load_checkpoint(path, map_location="cpu") -> dict:
    """Load a checkpoint written by :func:`save_checkpoint` (``weights_only=True``)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint '{path}' does not exist")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # pickle errors, truncated files, foreign objects
        raise CheckpointError(f"'{path}' is not a readable SCING checkpoint ({type(exc).__name__}: {str(exc)[:120]})") from None
    if not isinstance(state, dict) or "model" not in state:
        raise CheckpointError(f"'{path}' holds no 'model' state; is it a SCING checkpoint?")
    return state


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
