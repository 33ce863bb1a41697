"""Shared parsing for folders in the Market-1501 layout (``bounding_box_train``, ``query``,
``bounding_box_test``; files named ``<pid>_c<cam>...``).

Used by market1501, dukemtmc, occluded_duke, occluded_market, synthped and custom.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Iterable, Sequence

from scing_core.data.types import ReIDDataset, ReIDSample
from scing_core.errors import DatasetError

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")
MARKET_PATTERN = re.compile(r"([-\d]+)_c(\d+)")


def find_dataset_dir(root: str, folder_names: Sequence[str], required: Sequence[str], dataset: str) -> Path:
    """Return the dataset folder: ``root`` itself when it holds ``required``, else ``root/<name>``
    for the first of ``folder_names`` that does (one level of nesting allowed, e.g.
    ``market1501/Market-1501-v15.09.15``). Raises a DatasetError naming what was expected and found.
    """
    base = Path(root).expanduser()
    if not base.is_dir():
        raise DatasetError(f"{dataset}: folder '{base}' does not exist; pass the dataset folder or its parent with --root")
    candidates = [base] + [base / n for n in folder_names] + [base / a / b for a in folder_names for b in folder_names]
    for cand in candidates:
        if cand.is_dir() and all((cand / r).exists() for r in required):
            return cand
    found = sorted(p.name for p in base.iterdir())[:12]
    raise DatasetError(
        f"{dataset}: no dataset folder under '{base}'. Expected {', '.join(required)} inside '{base}' or inside one of "
        f"{', '.join(folder_names)}; found: {', '.join(found) or 'nothing'}"
    )


def list_images(folder: Path) -> list[Path]:
    """Image files directly inside ``folder``, sorted by name (reproducible order)."""
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())


def parse_market_names(
    files: Iterable[Path], dataset: str, split: str, pattern: re.Pattern = MARKET_PATTERN
) -> list[tuple[str, int, int]]:
    """``(path, pid, camid0)`` per parsable file (basename only); pid -1 (junk) dropped.
    Unparsable names are skipped with one warning (count + three examples).
    """
    out, bad = [], []
    for path in files:
        match = pattern.search(os.path.basename(path))
        if not match:
            bad.append(path.name)
            continue
        pid, cam = int(match.group(1)), int(match.group(2))
        if pid == -1:
            continue
        if cam < 1:
            bad.append(path.name)
            continue
        out.append((str(path), pid, cam - 1))
    if bad:
        log.warning("%s/%s: skipped %d file(s) whose names do not parse, e.g. %s", dataset, split, len(bad), ", ".join(bad[:3]))
    return out


def relabel(records: list[tuple[str, int, int]]) -> list[ReIDSample]:
    """Map training pids to 0..N-1 in sorted order of the original pids."""
    mapping = {pid: i for i, pid in enumerate(sorted({pid for _, pid, _ in records}))}
    return [ReIDSample(path, mapping[pid], cam) for path, pid, cam in records]


def require_nonempty(samples: list, dataset: str, split: str, folder) -> None:
    if not samples:
        raise DatasetError(f"{dataset}: the {split} split is empty (no parsable images in '{folder}')")


def load_market_layout(
    root: str,
    dataset: str,
    folder_names: Sequence[str],
    train_dir: str = "bounding_box_train",
    query_dir: str = "query",
    gallery_dir: str = "bounding_box_test",
    num_cams: int | None = None,
    require_train: bool = True,
) -> ReIDDataset:
    """Load a dataset in the Market-1501 layout. pid 0 stays in the gallery as distractors."""
    required = [query_dir, gallery_dir] + ([train_dir] if require_train else [])
    ddir = find_dataset_dir(root, folder_names, required, dataset)
    splits = {}
    for split, sub in (("train", train_dir), ("query", query_dir), ("gallery", gallery_dir)):
        folder = ddir / sub
        if split == "train" and not folder.is_dir():
            splits[split] = []
            continue
        records = parse_market_names(list_images(folder), dataset, split)
        if split == "train":
            records = [r for r in records if r[1] != 0]  # distractors never train
        if split == "query":
            records = [r for r in records if r[1] != 0]
        if require_train or split != "train":
            require_nonempty(records, dataset, split, folder)
        splits[split] = relabel(records) if split == "train" else [ReIDSample(*r) for r in records]
    cams = num_cams or 1 + max(s.camid for part in splits.values() for s in part)
    return ReIDDataset(dataset, str(ddir), splits["train"], splits["query"], splits["gallery"], cams)
