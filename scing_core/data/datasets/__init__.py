"""Dataset registry: one module per benchmark, each registering a loader ``(root) -> ReIDDataset``
with ``@register_dataset(name)``; every module of this package is imported, so adding the file is enough.

``load_dataset(name, root)`` accepts the dataset's own folder or a parent that holds it under any of
its usual folder names. Unknown names raise an error listing the valid ones. Users register their
own loaders with :func:`register_dataset`.
"""

from __future__ import annotations

from typing import Callable

from scing_core.data.types import ReIDDataset
from scing_core.registry import Registry, import_modules

DatasetLoader = Callable[..., ReIDDataset]
DATASETS: Registry[DatasetLoader] = Registry("dataset")


def register_dataset(name: str, loader: DatasetLoader | None = None, *, overwrite: bool = False):
    """Register ``loader(root, **options) -> ReIDDataset`` under ``name`` (decorator or call)."""
    return DATASETS.register(name, loader, overwrite=overwrite)


def list_datasets() -> list[str]:
    """Names accepted by :func:`load_dataset`."""
    return DATASETS.names()


def load_dataset(name: str, root, **options) -> ReIDDataset:
    """Load benchmark ``name`` from ``root`` (its folder or a parent of it)."""
    return DATASETS.get(name)(str(root), **options)


# Every module of this package is imported: a benchmark's file registers its loader (docs/architecture.md,
# "Adding a dataset"), so a new file is found without an import list.
import_modules(__name__, __path__)
