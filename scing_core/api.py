"""The facade the GUI (and scripts) use: small, documented, stable.

``app`` imports nothing else from ``scing_core`` (a test enforces it). Each function here does
real work in the core; the GUI calls them from worker threads.
"""

from __future__ import annotations

from scing_core.data import ReIDDataset, ReIDSample, list_datasets, load_dataset

__all__ = ["ReIDDataset", "ReIDSample", "list_datasets", "load_dataset"]
