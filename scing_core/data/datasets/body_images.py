"""Parsing for the "body images" layout of the ICME 2018 occluded benchmarks (Occluded-REID,
P-DukeMTMC-reID): ``occluded_body_images/<pid>/<pid>_<n>.<ext>`` and
``whole_body_images/<pid>/...``. The pid is the number before the first underscore of the file
name (the basename, never the folder); the camid says which kind of image it is:
occluded = 0, whole body = 1.
"""

from __future__ import annotations

import re
from pathlib import Path

from scing_core.data.datasets.common import Record, basename, list_images_in_subfolders

OCCLUDED_DIR = "occluded_body_images"
WHOLE_DIR = "whole_body_images"
OCCLUDED_CAMID = 0
WHOLE_CAMID = 1
PID_PATTERN = re.compile(r"^(\d+)_")


def parse_body_images(folder: Path, camid: int) -> tuple[list[Record], list[str]]:
    """``(path, pid, camid)`` for every image under ``folder/<pid>/`` whose name starts with
    ``<pid>_``, and the names (relative to ``folder``'s parent) that do not."""
    records, bad = [], []
    for path in list_images_in_subfolders(folder):
        match = PID_PATTERN.match(basename(path))
        if match is None:
            bad.append(str(path.relative_to(folder.parent)))
            continue
        records.append((str(path), int(match.group(1)), camid))
    return records, bad
