"""Checkpoint files as plain data, written atomically and loaded with ``weights_only=True``.

A checkpoint is a dict: ``model`` (state_dict), ``optimizer``, ``scaler``, ``rng``, ``stage``,
``epoch`` (next epoch to run), ``step_in_epoch`` (batches of that epoch already done, >0 only after a
stop), ``best`` (best mAP so far), ``config`` (resolved config as a plain dict), ``num_classes``, ``num_cams``,
``activation`` (the backbone's MLP activation as built: ``gelu`` | ``quick_gelu``; the config may say
``auto``), ``version``.
"""

from __future__ import annotations

from pathlib import Path

from scing_core.atomic import atomic_open
from scing_core.errors import CheckpointError

CHECKPOINT_VERSION = 1


def save_checkpoint(state: dict, path) -> Path:
    """Write ``state`` to a temp file in the same folder, then ``os.replace`` it onto ``path``."""
    import torch   # here: `import scing_core.api` loads this module, and reading a run's status never needs torch

    path = Path(path)
    with atomic_open(path, "wb") as fh:
        torch.save({"version": CHECKPOINT_VERSION, **state}, fh)
    return path


def load_checkpoint(path, map_location="cpu") -> dict:
    """Load a checkpoint written by :func:`save_checkpoint` (``weights_only=True``)."""
    import torch   # here: `import scing_core.api` loads this module (see save_checkpoint)

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
