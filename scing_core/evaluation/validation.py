"""Checks and conversions shared by the ranking metrics and the ROC statistics.

A distance matrix may be a numpy array or a torch tensor (CPU or CUDA); the id arrays may be
numpy arrays, torch tensors or lists. Shapes and label types are checked once here (labels become
int64 numpy arrays); rows of the distance matrix are then read chunk by chunk
(:func:`iter_row_chunks`), never copied whole: numpy rows for CPU data, torch rows for GPU data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np
import torch

from scing_core.errors import InputError

# Working memory a chunked pass may use, on top of its inputs and outputs.
DEFAULT_CHUNK_BYTES = 256 * 2**20


@dataclass(frozen=True)
class RankInputs:
    """A checked ranking problem: ``distmat`` untouched, labels as int64 numpy arrays."""

    distmat: Any  # np.ndarray or torch.Tensor, shape (num_query, num_gallery)
    q_pids: np.ndarray
    g_pids: np.ndarray
    q_camids: np.ndarray
    g_camids: np.ndarray

    @property
    def num_query(self) -> int:
        return int(self.distmat.shape[0])

    @property
    def num_gallery(self) -> int:
        return int(self.distmat.shape[1])

    @property
    def on_gpu(self) -> bool:
        """True when the distances are a torch tensor off the CPU (then the work stays there)."""
        return isinstance(self.distmat, torch.Tensor) and self.distmat.device.type != "cpu"

    def labels(self, like: Any) -> tuple[Any, Any, Any, Any]:
        """``(q_pids, g_pids, q_camids, g_camids)`` as arrays of the same kind and device as ``like``."""
        labels = (self.q_pids, self.g_pids, self.q_camids, self.g_camids)
        if isinstance(like, torch.Tensor):
            return tuple(torch.as_tensor(values, device=like.device) for values in labels)
        return labels


def check_distmat(distmat: Any) -> np.ndarray | torch.Tensor:
    """Return ``distmat`` as a 2-D real numpy array or torch tensor (no copy when already one)."""
    if not isinstance(distmat, (np.ndarray, torch.Tensor)):
        try:
            distmat = np.asarray(distmat)
        except (TypeError, ValueError) as error:
            raise InputError(f"distmat: expected a 2-D array of distances, got {type(distmat).__name__} ({error})")
    if distmat.ndim != 2:
        raise InputError(f"distmat: expected a 2-D (num_query, num_gallery) array, got shape {tuple(distmat.shape)}")
    is_bool = distmat.dtype == torch.bool if isinstance(distmat, torch.Tensor) else distmat.dtype == np.bool_
    is_complex = distmat.is_complex() if isinstance(distmat, torch.Tensor) else np.iscomplexobj(distmat)
    is_numeric = isinstance(distmat, torch.Tensor) or np.issubdtype(distmat.dtype, np.number)
    if is_bool or is_complex or not is_numeric:
        raise InputError(f"distmat: expected real distances, got dtype {distmat.dtype}")
    if distmat.shape[0] == 0:
        raise InputError("distmat: there are no queries (0 rows); pass at least one query")
    if distmat.shape[1] == 0:
        raise InputError("distmat: the gallery is empty (0 columns); pass at least one gallery item")
    return distmat


def check_labels(values: Any, name: str, length: int) -> np.ndarray:
    """Check a 1-D integer label array (pids or camids) of ``length``; return it as int64 numpy."""
    if isinstance(values, torch.Tensor):
        array = values.detach().cpu().numpy()
    else:
        try:
            array = np.asarray(values)
        except (TypeError, ValueError) as error:
            raise InputError(f"{name}: expected a 1-D array of integers ({error})")
    if array.ndim != 1:
        raise InputError(f"{name}: expected a 1-D array, got shape {array.shape}")
    if array.shape[0] != length:
        raise InputError(f"{name}: has {array.shape[0]} entries but the distance matrix needs {length}")
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
        raise InputError(f"{name}: expected integer labels, got dtype {array.dtype}")
    if not np.issubdtype(array.dtype, np.integer):
        if not np.all(np.isfinite(array)) or np.any(array != np.round(array)):
            raise InputError(f"{name}: expected integer labels, found non-integer values")
    return array.astype(np.int64)


def check_rank_inputs(distmat: Any, q_pids: Any, g_pids: Any, q_camids: Any, g_camids: Any) -> RankInputs:
    """Check a ranking problem's shapes and types (finiteness is checked chunk by chunk later)."""
    distmat = check_distmat(distmat)
    num_query, num_gallery = distmat.shape
    return RankInputs(
        distmat=distmat,
        q_pids=check_labels(q_pids, "q_pids", num_query),
        g_pids=check_labels(g_pids, "g_pids", num_gallery),
        q_camids=check_labels(q_camids, "q_camids", num_query),
        g_camids=check_labels(g_camids, "g_camids", num_gallery),
    )


def rows_per_chunk(num_columns: int, bytes_per_entry: int, chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> int:
    """How many rows of ``num_columns`` entries fit in ``chunk_bytes`` (at least one)."""
    return max(1, int(chunk_bytes) // max(1, num_columns * bytes_per_entry))


def row_chunk(distmat: np.ndarray | torch.Tensor, start: int, stop: int,
              check_finite: bool = True) -> np.ndarray | torch.Tensor:
    """Rows ``start:stop`` as floating values: a torch tensor for GPU input, else numpy (views when possible).

    Integer distances become float64, bfloat16 becomes float32 (both exact). With ``check_finite``
    a NaN / inf raises :class:`InputError` naming the entry.
    """
    rows = distmat[start:stop]
    if isinstance(rows, torch.Tensor):
        rows = rows.detach()
        if not rows.is_floating_point():
            rows = rows.to(torch.float64)
        if rows.device.type != "cpu":
            if check_finite and not bool(torch.isfinite(rows).all()):
                raise_non_finite(rows, start)
            return rows
        rows = (rows.float() if rows.dtype == torch.bfloat16 else rows).numpy()
    rows = np.ascontiguousarray(rows)
    if not np.issubdtype(rows.dtype, np.floating):
        rows = rows.astype(np.float64)
    if check_finite and not np.isfinite(rows).all():
        raise_non_finite(rows, start)
    return rows


def raise_non_finite(rows: np.ndarray | torch.Tensor, start: int) -> None:
    """Raise the InputError that names the first NaN / inf entry of ``rows`` (row ``start`` first)."""
    values = rows.cpu().double().numpy() if isinstance(rows, torch.Tensor) else rows
    bad_rows, bad_cols = np.nonzero(~np.isfinite(values))
    row, col = int(bad_rows[0]), int(bad_cols[0])
    raise InputError(
        f"distmat: non-finite distance {float(values[row, col])} at query {row + start}, gallery {col}; "
        "distances must be finite (check the features for NaN)"
    )


def iter_row_chunks(distmat: np.ndarray | torch.Tensor, rows_each: int,
                    check_finite: bool = True) -> Iterator[tuple[int, int, np.ndarray | torch.Tensor]]:
    """Yield ``(start, stop, rows)`` over the distance matrix, ``rows_each`` rows at a time."""
    for start in range(0, int(distmat.shape[0]), rows_each):
        stop = min(start + rows_each, int(distmat.shape[0]))
        yield start, stop, row_chunk(distmat, start, stop, check_finite)
