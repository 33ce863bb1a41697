"""Saved views of the retrieval browser: a named query filter (tag filter included) and sort.

Kept in ``WORKSPACE/studio/views.json`` (``{"version": 1, "views": {NAME: {"sort": KEY, "filter": {…}}}}``),
written atomically on every save or delete. A view round-trips exactly: what is saved is what choosing it
applies. A file that cannot be read is left untouched; the store says why and refuses changes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from app.state.query_filter import SORT_KEYS, QueryFilter
from app.state.studio_files import StudioFileError, read_json_file, studio_file, write_json_file

VIEWS_FILE = "views.json"
VERSION = 1
FIELDS = {f.name: f for f in dataclasses.fields(QueryFilter)}


@dataclass(frozen=True)
class SavedView:
    name: str
    query_filter: QueryFilter
    sort_key: str = "ap_ascending"


def view_to_json(view: SavedView) -> dict:
    values = {name: list(value) if isinstance(value, tuple) else value
              for name, value in dataclasses.asdict(view.query_filter).items()}
    return {"sort": view.sort_key, "filter": values}


def view_from_json(name: str, data) -> SavedView:
    """The view saved as ``data``; ValueError (one line) when it is not one the studio wrote."""
    if not isinstance(data, dict) or not isinstance(data.get("filter", {}), dict):
        raise ValueError(f"view '{name}' is not a filter and a sort")
    sort_key = data.get("sort", "ap_ascending")
    if sort_key not in SORT_KEYS:
        raise ValueError(f"view '{name}' sorts by '{sort_key}'; valid: {', '.join(SORT_KEYS)}")
    values = {}
    for key, value in data.get("filter", {}).items():
        if key not in FIELDS:
            continue   # a criterion of another studio version: left out
        default = FIELDS[key].default
        if isinstance(default, tuple):
            if not isinstance(value, list) or not all(isinstance(v, int) for v in value):
                raise ValueError(f"view '{name}': '{key}' is not a list of numbers")
            value = tuple(value)
        elif isinstance(default, bool):
            if not isinstance(value, bool):
                raise ValueError(f"view '{name}': '{key}' is not true/false")
        elif isinstance(default, float):
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise ValueError(f"view '{name}': '{key}' is not a number")
            value = float(value)
        elif isinstance(default, str):
            if not isinstance(value, str):
                raise ValueError(f"view '{name}': '{key}' is not text")
        elif value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise ValueError(f"view '{name}': '{key}' is not a whole number")
        values[key] = value
    return SavedView(name, QueryFilter(**values), sort_key)


class ViewStore:
    """The saved views of one workspace, by name. ``error``: why the file cannot be used (None: it can)."""

    def __init__(self, path: Path | None, views: dict[str, SavedView] | None = None, error: str | None = None):
        self.path = path
        self.views: dict[str, SavedView] = dict(views or {})
        self.error = error

    @classmethod
    def load(cls, workspace) -> "ViewStore":
        path = studio_file(workspace, VIEWS_FILE)
        try:
            data = read_json_file(path)
            views = {}
            for name, value in ((data or {}).get("views") or {}).items():
                views[str(name)] = view_from_json(str(name), value)
        except (StudioFileError, ValueError, AttributeError) as error:
            reason = str(error) if isinstance(error, StudioFileError) else \
                f"{path}: {error}; fix or delete it, the studio left it untouched"
            return cls(path, error=reason)
        return cls(path, views)

    @property
    def writable(self) -> bool:
        return self.path is not None and self.error is None

    def names(self) -> list[str]:
        return sorted(self.views, key=str.lower)

    def get(self, name: str) -> SavedView | None:
        return self.views.get(name)

    def save(self, view: SavedView) -> None:
        """Add or replace the view of this name."""
        name = " ".join(view.name.split())
        if not name:
            raise ValueError("a view needs a name")
        self._write({**self.views, name: dataclasses.replace(view, name=name)})

    def delete(self, name: str) -> bool:
        if name not in self.views:
            return False
        self._write({k: v for k, v in self.views.items() if k != name})
        return True

    def _write(self, views: dict[str, SavedView]) -> None:
        if not self.writable:
            raise ValueError(self.error or "no workspace open: views are kept in the workspace")
        data = {"version": VERSION, "views": {k: view_to_json(v) for k, v in sorted(views.items())}}
        write_json_file(self.path, data)
        self.views = views
