"""MSMT17 (Wei et al., CVPR 2018): 4,101 ids, 15 cameras, 1,041 train ids (list_train + list_val).

Folders: ``MSMT17_V1/`` (images in ``train/`` and ``test/``), ``MSMT17_V2/`` (images in
``mask_train_v2/`` and ``mask_test_v2/``) or a plain ``MSMT17/`` with either pair, and the four
lists ``list_{train,val,query,gallery}.txt`` next to them, one ``<relative path> <pid>`` per line,
e.g. ``0000/0000_000_01_0303morning_0015_0.jpg 0``.

Rules: the pid comes from the list; the camid is the file name's third underscore field minus one
(``..._01_...`` -> camid 0). Train = list_train + list_val unless ``use_val=False``. Test pids
start at 0 as well: MSMT17 has no distractors, so pid 0 is an ordinary identity here. List entries
whose file is missing are skipped with one warning.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from scing_core.data.datasets import register_dataset
from scing_core.data.datasets.common import (
    Record,
    basename,
    build_dataset,
    find_dataset_dir,
    find_subdir,
    warn_unparsable,
)
from scing_core.data.types import ReIDDataset
from scing_core.errors import DatasetError

log = logging.getLogger(__name__)

FOLDERS = ("MSMT17_V1", "MSMT17_V2", "MSMT17", "msmt17", "msmt17_v1", "msmt17_v2")
TRAIN_IMAGE_DIRS = ("train", "mask_train_v2", "mask_train_V2")
TEST_IMAGE_DIRS = ("test", "mask_test_v2", "mask_test_V2")
REQUIRED_LISTS = ("list_train.txt", "list_query.txt", "list_gallery.txt")
VAL_LIST = "list_val.txt"
NUM_CAMS = 15


def parse_list(list_file: Path, image_dir: Path, existing: set[str]) -> tuple[list[Record], list[str], list[str]]:
    """Records of one list file, the lines that do not parse and the listed files that are missing."""
    records, bad, missing = [], [], []
    lines = list_file.read_text(encoding="utf-8", errors="replace").splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        parsed = parse_line(line)
        if parsed is None:
            bad.append(f"{list_file.name}:{number} '{line.strip()[:60]}'")
        elif parsed[0] not in existing:
            missing.append(f"{image_dir.name}/{parsed[0]}")
        else:
            rel, pid, camid = parsed
            records.append((str(image_dir / rel), pid, camid))
    return records, bad, missing


def parse_line(line: str) -> tuple[str, int, int] | None:
    """``'0000/0000_000_01_0303morning_0015_0.jpg 0'`` -> ``('0000/0000_...jpg', 0, 0)``; None if malformed."""
    fields = line.split()
    if len(fields) != 2:
        return None
    rel, pid_text = fields[0].replace("\\", "/"), fields[1]
    name_fields = basename(rel).split("_")
    if len(name_fields) < 3 or not name_fields[2].isdigit() or not pid_text.lstrip("-").isdigit():
        return None
    pid, cam = int(pid_text), int(name_fields[2])
    if pid < 0 or cam < 1:
        return None
    return rel, pid, cam - 1


def existing_files(image_dir: Path) -> set[str]:
    """Every file under ``image_dir`` as a posix path relative to it (one directory walk)."""
    found = set()
    for dirpath, _, files in os.walk(image_dir):
        rel_dir = Path(dirpath).relative_to(image_dir).as_posix()
        prefix = "" if rel_dir == "." else rel_dir + "/"
        found.update(prefix + f for f in files)
    return found


@register_dataset("msmt17")
def load_msmt17(root: str, use_val: bool = True) -> ReIDDataset:
    """MSMT17: MSMT17_V1/{train,test}/<pid>/<name>.jpg or MSMT17_V2/{mask_train_v2,mask_test_v2}/...
    with list_{train,val,query,gallery}.txt ('<path> <pid>' per line); camid = third field of the name - 1;
    train = train + val lists (use_val=False: train list only); 15 cameras.
    """
    ddir = find_dataset_dir(root, FOLDERS, REQUIRED_LISTS, "msmt17")
    if use_val and not (ddir / VAL_LIST).is_file():
        raise DatasetError(
            f"msmt17: '{ddir / VAL_LIST}' is missing; restore it or load with use_val=False (config: msmt_use_val: false)"
        )
    train_dir = find_subdir(ddir, TRAIN_IMAGE_DIRS, "msmt17", "train image")
    test_dir = find_subdir(ddir, TEST_IMAGE_DIRS, "msmt17", "test image")
    lists = {
        "train": ["list_train.txt"] + ([VAL_LIST] if use_val else []),
        "query": ["list_query.txt"],
        "gallery": ["list_gallery.txt"],
    }
    existing = {train_dir: existing_files(train_dir), test_dir: existing_files(test_dir)}
    splits: dict[str, list[Record]] = {}
    bad, missing = [], []
    for split, names in lists.items():
        image_dir = train_dir if split == "train" else test_dir
        splits[split] = []
        for name in names:
            records, bad_here, missing_here = parse_list(ddir / name, image_dir, existing[image_dir])
            splits[split] += records
            bad += bad_here
            missing += missing_here
    warn_unparsable("msmt17", bad)
    if missing:
        log.warning(
            "msmt17: skipped %d listed image(s) that are missing on disk, e.g. %s", len(missing), ", ".join(missing[:3])
        )
    folders = {split: ddir / names[0] for split, names in lists.items()}
    extras = {"use_val": use_val, "version": "V2" if "mask" in train_dir.name else "V1"}
    return build_dataset("msmt17", ddir, splits, folders, NUM_CAMS, extras)
