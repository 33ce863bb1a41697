"""Helpers shared by every benchmark loader: find the dataset folder, list images, report
unparsable names once, relabel training ids and assemble a checked :class:`ReIDDataset`.

A loader turns its folders into ``(path, pid, camid)`` records (camid already 0-based, junk
dropped), collects the names it could not parse, and hands both to :func:`build_dataset`.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Iterable, Sequence

from scing_core.data.types import ReIDDataset, ReIDSample
from scing_core.errors import DatasetError

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")
SPLITS = ("train", "query", "gallery")
Record = tuple[str, int, int]  # (path, pid, camid0)


def find_dataset_dir(root: str, folder_names: Sequence[str], required: Sequence[str], dataset: str) -> Path:
    """Return the dataset folder: ``root`` itself when it holds ``required``, else ``root/<name>``
    for the first of ``folder_names`` that does (one level of nesting allowed, e.g.
    ``market1501/Market-1501-v15.09.15``). Raises a DatasetError naming what was expected and found.
    """
    base = Path(root).expanduser().absolute()  # absolute: sample paths must survive a change of directory
    if not base.is_dir():
        raise DatasetError(f"{dataset}: folder '{base}' does not exist; pass the dataset folder or its parent with --root")
    candidates = [base] + [base / n for n in folder_names] + [base / a / b for a in folder_names for b in folder_names]
    partial: tuple[Path, list[str]] | None = None
    for cand in candidates:
        if not cand.is_dir():
            continue
        present = [r for r in required if (cand / r).exists()]
        if len(present) == len(required):
            return cand
        if present and partial is None:
            partial = (cand, present)
    names = sorted(p.name for p in base.iterdir() if not p.name.startswith("."))
    found = ", ".join(names[:12]) + (f" (+{len(names) - 12} more)" if len(names) > 12 else "")
    where = f"inside '{base}'" + (f" or inside one of its sub-folders {', '.join(folder_names)}" if folder_names else "")
    message = (
        f"{dataset}: no dataset folder under '{base}'. Expected {', '.join(required)} {where}; "
        f"found: {found or 'nothing'}"
    )
    if partial is not None:
        cand, present = partial
        missing = [r for r in required if r not in present]
        message += f". '{cand}' has {', '.join(present)} but lacks {', '.join(missing)}"
    raise DatasetError(message)


def find_subdir(parent: Path, names: Sequence[str], dataset: str, what: str) -> Path:
    """The first of ``names`` that is a folder inside ``parent``, else a DatasetError listing both."""
    for name in names:
        if (parent / name).is_dir():
            return parent / name
    found = sorted(p.name for p in parent.iterdir() if p.is_dir() and not p.name.startswith("."))
    raise DatasetError(
        f"{dataset}: no {what} folder in '{parent}'. Expected one of {', '.join(names)}; "
        f"found folders: {', '.join(found) or 'none'}"
    )


def is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS and not path.name.startswith(".")


def list_images(folder: Path) -> list[Path]:
    """Image files directly inside ``folder`` (hidden files ignored), sorted by name.

    A link with an image name that leads nowhere (a symlink loop, or a missing target) is kept and
    named in a warning: the loader then reports it as unreadable like any broken file, and
    ``scing data check`` counts it, instead of it vanishing from the split unnoticed.
    """
    entries = [p for p in folder.iterdir() if is_image(p)]
    dead = [p for p in entries if p.is_symlink() and not p.exists()]  # exists() is False for loops too
    if dead:
        log.warning("%s: %d image link(s) lead nowhere (a symlink loop or a missing target), e.g. %s; "
                    "`scing data check` lists them", folder, len(dead), ", ".join(p.name for p in dead[:3]))
    return sorted(p for p in entries if p.is_file() or p in dead)


def list_images_in_subfolders(folder: Path) -> list[Path]:
    """Image files one level down (``folder/<pid>/<image>``), sorted by path."""
    subdirs = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    return [img for sub in subdirs for img in list_images(sub)] + list_images(folder)


def warn_unparsable(dataset: str, bad: Sequence[str]) -> None:
    """One warning for all names a loader skipped: count + three examples."""
    if bad:
        log.warning(
            "%s: skipped %d image file(s) whose names do not parse, e.g. %s", dataset, len(bad), ", ".join(bad[:3])
        )


def relabel(records: Iterable[Record]) -> list[ReIDSample]:
    """Map training pids to 0..N-1 in sorted order of the original pids."""
    records = list(records)
    mapping = {pid: i for i, pid in enumerate(sorted({pid for _, pid, _ in records}))}
    return [ReIDSample(path, mapping[pid], cam) for path, pid, cam in records]


def require_nonempty(samples: list, dataset: str, split: str, folder) -> None:
    if not samples:
        raise DatasetError(f"{dataset}: the {split} split is empty (no usable images in '{folder}')")


def resolve_num_cams(dataset: str, declared: int | None, splits: dict[str, list[Record]]) -> int:
    """The declared camera count, raised (with a warning) if the files show more cameras."""
    observed = 1 + max((cam for records in splits.values() for _, _, cam in records), default=0)
    if declared is None:
        return observed
    if observed > declared:
        log.warning("%s: images show %d cameras but the benchmark has %d; using %d", dataset, observed, declared, observed)
    return max(declared, observed)


def build_dataset(
    dataset: str,
    dataset_dir: Path,
    splits: dict[str, list[Record]],
    folders: dict[str, object],
    num_cams: int | None,
    extras: dict | None = None,
    real_cameras: bool = True,
) -> ReIDDataset:
    """Check every split is non-empty (train may be absent: then ``extras['test_only']``), sort
    each split by path, relabel train pids 0..N-1 and return the dataset."""
    extras = dict(extras or {})
    for split in SPLITS:
        if split == "train" and split not in splits:
            extras["test_only"] = True
            continue
        require_nonempty(splits[split], dataset, split, folders.get(split, dataset_dir))
    ordered = {split: sorted(splits.get(split, [])) for split in SPLITS}
    cams = resolve_num_cams(dataset, num_cams, ordered)
    extras["train_pids"] = sorted({pid for _, pid, _ in ordered["train"]})   # label i is person train_pids[i]
    return ReIDDataset(
        name=dataset,
        root=str(dataset_dir),
        train=relabel(ordered["train"]),
        query=[ReIDSample(*r) for r in ordered["query"]],
        gallery=[ReIDSample(*r) for r in ordered["gallery"]],
        num_cams=cams,
        extras=extras,
        real_cameras=real_cameras,
    )


def basename(path) -> str:
    """The file name only: loaders parse this, never the full path."""
    return os.path.basename(str(path))
