"""A tiny name -> factory registry whose misses explain themselves (torchreid / timm habit)."""

from __future__ import annotations

import difflib
import importlib
from pathlib import Path
from typing import Generic, Iterable, Iterator, TypeVar

from scing_core.errors import RegistryError

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps lower-case names to objects; ``get`` on a miss lists the valid names."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str, obj: T | None = None, *, overwrite: bool = False):
        """Register ``obj`` under ``name``; usable as a decorator when ``obj`` is omitted."""

        def add(item: T) -> T:
            key = name.lower()
            if key in self._items and not overwrite:
                raise RegistryError(f"{self.kind} '{name}' is already registered; pass overwrite=True to replace it")
            self._items[key] = item
            return item

        return add if obj is None else add(obj)

    def get(self, name: str) -> T:
        key = str(name).lower()
        if key not in self._items:
            valid = ", ".join(sorted(self._items))
            hint = suggest(key, list(self._items))
            raise RegistryError(f"unknown {self.kind} '{name}'.{hint} Valid names: {valid}")
        return self._items[key]

    def unregister(self, name: str) -> T:
        """Remove ``name`` (a plug-in that goes away, a test's throw-away entry) and return what it held."""
        self.get(name)   # a miss lists the valid names
        return self._items.pop(str(name).lower())

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return str(name).lower() in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())


def suggest(word: str, candidates: list[str]) -> str:
    """' Did you mean X?' for the closest candidate, or ''."""
    close = difflib.get_close_matches(word, candidates, n=1)
    return f" Did you mean '{close[0]}'?" if close else ""


def import_modules(package: str, path: Iterable[str]) -> list[str]:
    """Import every module of ``package`` (its ``__path__``), so that the modules that register
    something (one dataset per file, one method per file) need no hand-kept import list: adding the
    file is enough. Returns the module names, sorted."""
    names = sorted({file.stem for folder in path for file in Path(folder).glob("*.py") if file.stem != "__init__"})
    for name in names:
        importlib.import_module(f"{package}.{name}")
    return names
