"""Shared parsing for folders in the Market-1501 layout (``bounding_box_train``, ``query``,
``bounding_box_test``; files named ``<pid>_c<cam>...``, e.g. ``0002_c1s1_000451_03.jpg``).

Used by market1501, dukemtmc, occluded_duke, occluded_market, synthped and custom.
Rules: the basename is parsed (never the full path); camids become 0-based; pid -1 (junk) is
dropped everywhere; pid 0 (distractors) is kept in the gallery only; train pids are relabelled
0..N-1 in sorted order. A missing train folder is allowed only with ``require_train=False`` and
marks the dataset ``extras['test_only']``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable, Sequence

from scing_core.data.datasets.common import (  # noqa: F401  (re-exported for loaders)
    IMAGE_EXTENSIONS,
    Record,
    basename,
    build_dataset,
    find_dataset_dir,
    list_images,
    relabel,
    require_nonempty,
    warn_unparsable,
)
from scing_core.data.types import ReIDDataset

MARKET_PATTERN = re.compile(r"^(-?\d+)_c(\d+)")
JUNK_PID = -1
DISTRACTOR_PID = 0


def parse_market_names(
    files: Iterable[Path], pattern: re.Pattern = MARKET_PATTERN
) -> tuple[list[Record], list[str]]:
    """``(path, pid, camid0)`` per parsable file (basename only) with pid -1 (junk) dropped, and
    the names that did not parse (a negative pid other than -1 or a camera 0 do not parse)."""
    records, bad = [], []
    for path in files:
        name = basename(path)
        match = pattern.match(name)
        pid, cam = (int(match.group(1)), int(match.group(2))) if match else (None, 0)
        if pid == JUNK_PID:
            continue
        if pid is None or pid < 0 or cam < 1:
            bad.append(name)
            continue
        records.append((str(path), pid, cam - 1))
    return records, bad


def load_market_layout(
    root: str,
    dataset: str,
    folder_names: Sequence[str],
    train_dir: str = "bounding_box_train",
    query_dir: str = "query",
    gallery_dir: str = "bounding_box_test",
    num_cams: int | None = None,
    require_train: bool = True,
    extras: dict | None = None,
) -> ReIDDataset:
    """Load a dataset in the Market-1501 layout found at ``root`` or under one of ``folder_names``.

    ``num_cams`` is the benchmark's camera count (``None``: counted from the files).
    """
    required = ([train_dir] if require_train else []) + [query_dir, gallery_dir]
    ddir = find_dataset_dir(root, folder_names, required, dataset)
    splits: dict[str, list[Record]] = {}
    folders: dict[str, Path] = {}
    bad_names: list[str] = []
    for split, sub in (("train", train_dir), ("query", query_dir), ("gallery", gallery_dir)):
        folder = folders[split] = ddir / sub
        if split == "train" and not folder.is_dir():
            continue  # test-only dataset (allowed because require_train is False)
        records, bad = parse_market_names(list_images(folder))
        bad_names += [f"{sub}/{name}" for name in bad]
        if split != "gallery":
            records = [r for r in records if r[1] != DISTRACTOR_PID]  # distractors never train or query
        splits[split] = records
    warn_unparsable(dataset, bad_names)
    return build_dataset(dataset, ddir, splits, folders, num_cams, extras)
