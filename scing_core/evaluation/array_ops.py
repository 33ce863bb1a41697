"""The few row-wise array operations the metrics need, for numpy (CPU) and torch (CUDA).

CPU work runs in numpy: its sorts are SIMD-accelerated and single-threaded, so they stay fast
even on a busy machine, where each multi-threaded torch CPU call can stall on its thread pool.
Tensors on a GPU stay there and use the torch versions. The metric code is written once against
:class:`NumpyOps` / :class:`TorchOps` (same method names) plus operators both libraries share.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch


class NumpyOps:
    """Row-wise operations on 2-D numpy arrays."""

    name = "numpy"

    @staticmethod
    def asarray(values: np.ndarray) -> np.ndarray:
        return np.asarray(values)

    @staticmethod
    def to_numpy(values: np.ndarray) -> np.ndarray:
        return values

    @staticmethod
    def arange(stop: int, like: np.ndarray) -> np.ndarray:
        return np.arange(stop)

    @staticmethod
    def full(shape: tuple[int, ...], value: float, dtype: str, like: np.ndarray) -> np.ndarray:
        return np.full(shape, value, dtype=dtype)

    @staticmethod
    def where(condition: np.ndarray, a: Any, b: Any) -> np.ndarray:
        return np.where(condition, a, b)

    @staticmethod
    def f64(values: np.ndarray) -> np.ndarray:
        return values.astype(np.float64)

    @staticmethod
    def sort_rows(values: np.ndarray) -> np.ndarray:
        return np.sort(values, axis=1)

    @staticmethod
    def gather_rows(values: np.ndarray, indices: np.ndarray) -> np.ndarray:
        return np.take_along_axis(values, indices, axis=1)

    @staticmethod
    def count_below(sorted_rows: np.ndarray, values: np.ndarray) -> np.ndarray:
        """For each ``values[i, k]``: how many entries of ``sorted_rows[i]`` are strictly smaller.

        A vectorised binary search over all rows at once (numpy's searchsorted is 1-D only):
        ``log2(num_columns)`` steps, each touching only ``values.size`` entries.
        """
        num_columns = sorted_rows.shape[1]
        low = np.zeros(values.shape, dtype=np.int64)
        high = np.full(values.shape, num_columns, dtype=np.int64)
        for _ in range(int(num_columns).bit_length()):
            middle = (low + high) // 2
            probe = np.take_along_axis(sorted_rows, np.minimum(middle, num_columns - 1), axis=1)
            go_right = (probe < values) & (middle < high)
            low = np.where(go_right, middle + 1, low)
            high = np.where(go_right, high, middle)
        return low

    @staticmethod
    def stable_argsort(values: np.ndarray) -> np.ndarray:
        """Per-row argsort keeping column order among equal values.

        float32 rows sort 64-bit keys (order-preserving bits of the value, then the column) with
        numpy's fast sort, several times quicker than a stable comparison sort.
        """
        if values.dtype == np.float32 and values.shape[1] < 2**32:
            bits = (values + np.float32(0.0)).view(np.uint32)  # + 0.0 turns -0.0 into +0.0
            ordered = np.where(bits >= np.uint32(2**31), ~bits, bits | np.uint32(2**31)).astype(np.uint64)
            keys = np.sort((ordered << np.uint64(32)) | np.arange(values.shape[1], dtype=np.uint64), axis=1)
            return (keys & np.uint64(2**32 - 1)).astype(np.int64)
        return np.argsort(values, axis=1, kind="stable")

    @staticmethod
    def cumsum_rows(values: np.ndarray) -> np.ndarray:
        return np.cumsum(values, axis=1, dtype=np.int64)

    @staticmethod
    def first_true(mask: np.ndarray) -> np.ndarray:
        """Column of the first True per row (0 for rows without one)."""
        return np.argmax(mask, axis=1)

    @staticmethod
    def isfinite_all(values: np.ndarray) -> bool:
        return bool(np.isfinite(values).all())


class TorchOps:
    """The same operations on torch tensors (used for tensors on a GPU)."""

    name = "torch"

    @staticmethod
    def asarray(values: Any, like: torch.Tensor | None = None) -> torch.Tensor:
        device = like.device if like is not None else None
        return torch.as_tensor(values, device=device)

    @staticmethod
    def to_numpy(values: torch.Tensor) -> np.ndarray:
        return values.cpu().numpy()

    @staticmethod
    def arange(stop: int, like: torch.Tensor) -> torch.Tensor:
        return torch.arange(stop, device=like.device)

    @staticmethod
    def full(shape: tuple[int, ...], value: float, dtype: str, like: torch.Tensor) -> torch.Tensor:
        return torch.full(shape, value, dtype=getattr(torch, dtype), device=like.device)

    @staticmethod
    def where(condition: torch.Tensor, a: Any, b: Any) -> torch.Tensor:
        return torch.where(condition, a, b)

    @staticmethod
    def f64(values: torch.Tensor) -> torch.Tensor:
        return values.to(torch.float64)

    @staticmethod
    def sort_rows(values: torch.Tensor) -> torch.Tensor:
        return torch.sort(values, dim=1).values.contiguous()

    @staticmethod
    def gather_rows(values: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
        return torch.gather(values, 1, indices)

    @staticmethod
    def count_below(sorted_rows: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
        return torch.searchsorted(sorted_rows, values.contiguous(), side="left")

    @staticmethod
    def stable_argsort(values: torch.Tensor) -> torch.Tensor:
        return torch.sort(values, dim=1, stable=True).indices

    @staticmethod
    def cumsum_rows(values: torch.Tensor) -> torch.Tensor:
        return torch.cumsum(values, dim=1, dtype=torch.int64)

    @staticmethod
    def first_true(mask: torch.Tensor) -> torch.Tensor:
        return torch.argmax(mask.to(torch.uint8), dim=1)

    @staticmethod
    def isfinite_all(values: torch.Tensor) -> bool:
        return bool(torch.isfinite(values).all())


def ops_for(rows: Any) -> type[NumpyOps] | type[TorchOps]:
    """The operation set for ``rows``: torch for tensors (which the callers keep for GPUs), else numpy."""
    return TorchOps if isinstance(rows, torch.Tensor) else NumpyOps
