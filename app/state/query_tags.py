"""Tags on retrieval queries ("hard", "label noise", free text), kept in the workspace.

``WORKSPACE/studio/query_tags.json`` maps a query image's dataset-relative path — the eval folder's
dataset name, the split folder and the file name, ``synthped/query/0001_c1s1_000001_00.jpg`` — to its
tags, so tags survive across runs (and re-evals) of the same dataset, wherever its folder lies.

Every change is written at once, atomically. A file that cannot be read (not JSON, not what the studio
writes) is left untouched: the store says why (``error``) and refuses changes until the file is fixed
and the store reloaded.
"""

from __future__ import annotations

import os
from pathlib import Path

from app.state.studio_files import StudioFileError, read_json_file, studio_file, write_json_file

TAGS_FILE = "query_tags.json"
SUGGESTED_TAGS = ("hard", "label noise")
VERSION = 1


def tag_key(dataset: str, path) -> str:
    """The dataset-relative key of a query image: 'DATASET/SPLIT/FILE'."""
    folder, name = os.path.split(str(path))
    return f"{dataset}/{os.path.basename(folder)}/{name}"


def clean_tag(text: str) -> str:
    """A tag as stored: trimmed, inner whitespace single spaces ('' when nothing is left)."""
    return " ".join(str(text).split())


class TagStore:
    """The tags of one workspace. ``error``: why the file cannot be used (None: it can)."""

    def __init__(self, path: Path | None, tags: dict[str, tuple[str, ...]] | None = None, error: str | None = None):
        self.path = path
        self.tags: dict[str, tuple[str, ...]] = dict(tags or {})
        self.error = error

    @classmethod
    def load(cls, workspace) -> "TagStore":
        path = studio_file(workspace, TAGS_FILE)
        try:
            data = read_json_file(path)
        except StudioFileError as error:
            return cls(path, error=str(error))
        if data is None:
            return cls(path)
        tags = data.get("tags", {})
        if not isinstance(tags, dict) or not all(isinstance(v, list) and all(isinstance(t, str) for t in v)
                                                 for v in tags.values()):
            return cls(path, error=f"{path} does not map image paths to lists of tags: fix or delete it, the studio "
                                   "left it untouched")
        return cls(path, {str(k): tuple(v) for k, v in tags.items() if v})

    @property
    def writable(self) -> bool:
        return self.path is not None and self.error is None

    def known_tags(self) -> list[str]:
        """The suggested tags, then every tag in use (sorted)."""
        used = sorted({t for tags in self.tags.values() for t in tags} - set(SUGGESTED_TAGS), key=str.lower)
        return [*SUGGESTED_TAGS, *used]

    def for_eval(self, dataset: str, query_paths) -> dict[int, tuple[str, ...]]:
        """Query index -> its tags, for an eval of ``dataset`` with these query paths."""
        if not self.tags:
            return {}
        out = {}
        for index, path in enumerate(query_paths):
            tags = self.tags.get(tag_key(dataset, path))
            if tags:
                out[index] = tags
        return out

    # -- changes (each written at once) ------------------------------------------------------------------
    def add(self, keys, tag: str) -> int:
        """Tag these images; returns how many did not have the tag yet."""
        tag = clean_tag(tag)
        if not tag:
            raise ValueError("an empty tag: type a word or pick one")
        return self._change(keys, lambda tags: tags if tag in tags else (*tags, tag))

    def remove(self, keys, tag: str | None = None) -> int:
        """Take ``tag`` (None: every tag) off these images; returns how many changed."""
        return self._change(keys, lambda tags: () if tag is None else tuple(t for t in tags if t != tag))

    def _change(self, keys, change) -> int:
        if not self.writable:
            raise ValueError(self.error or "no workspace open: tags are kept in the workspace")
        tags = dict(self.tags)
        changed = 0
        for key in keys:
            before = tags.get(key, ())
            after = change(before)
            if after != before:
                changed += 1
                if after:
                    tags[key] = after
                else:
                    tags.pop(key, None)
        if changed:
            write_json_file(self.path, {"version": VERSION, "tags": {k: list(v) for k, v in sorted(tags.items())}})
            self.tags = tags
        return changed
