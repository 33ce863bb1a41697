"""SynthPed, the project's procedural pedestrian dataset (written by ``scing synth``).

Layout: the Market-1501 folders (``bounding_box_train``, ``query``, ``bounding_box_test``, names
``<pid>_c<cam>...``, pid 0 = gallery distractors) plus ``masks/<split_dir>/<stem>.png`` person
masks, ``captions.jsonl`` and ``meta.json``. The loader records the masks folder in
``extras['mask_dir']`` (and ``extras['captions']`` / ``extras['meta']`` when present) so analysis
code can find an image's mask with :func:`mask_path_for`.
"""

from __future__ import annotations

import json
from pathlib import Path

from scing_core.data.datasets import register_dataset
from scing_core.data.datasets.market_layout import load_market_layout
from scing_core.data.types import ReIDDataset

FOLDERS = ("synthped", "SynthPed", "synthped_occluded", "SynthPed-Occluded")
MASK_DIR = "masks"
CAPTIONS_FILE = "captions.jsonl"
META_FILE = "meta.json"


@register_dataset("synthped")
def load_synthped(root: str) -> ReIDDataset:
    """SynthPed: synthped/{bounding_box_train,query,bounding_box_test}/<pid>_c<cam>s1_<n>.png (Market naming)
    + masks/<split_dir>/<stem>.png, captions.jsonl, meta.json (also SynthPed/, synthped_occluded/, SynthPed-Occluded/).
    """
    dataset = load_market_layout(root, "synthped", FOLDERS)
    ddir = Path(dataset.root)
    for key, name in (("mask_dir", MASK_DIR), ("captions", CAPTIONS_FILE), ("meta", META_FILE)):
        if (ddir / name).exists():
            dataset.extras[key] = str(ddir / name)
    return dataset


def mask_path_for(dataset: ReIDDataset, sample_path: str) -> str | None:
    """The person mask of ``sample_path`` (``mask_dir/<split_dir>/<stem>.png``), or None when the
    dataset has no masks folder or that image has no mask file."""
    mask_dir = dataset.extras.get("mask_dir")
    if not mask_dir:
        return None
    image = Path(sample_path)
    mask = Path(mask_dir) / image.parent.name / f"{image.stem}.png"
    return str(mask) if mask.is_file() else None


def image_annotations(paths) -> dict[str, dict]:
    """``{path: {"caption": str, "occlusion": fraction or None}}`` for the images of ``paths`` that their
    SynthPed folder describes: ``captions.jsonl`` (beside the split folders) holds a caption per image
    and, for SynthPed-Occluded, the occluded share of the body. Images without such a line are left out."""
    by_folder: dict[Path, list[Path]] = {}
    for path in paths:
        image = Path(path)
        by_folder.setdefault(image.parent.parent, []).append(image)
    out: dict[str, dict] = {}
    for folder, images in by_folder.items():
        records = _caption_records(folder / CAPTIONS_FILE)
        for image in images:
            record = records.get((image.parent.name, image.name))
            if record is not None:
                occlusion = record.get("occlusion") or {}
                out[str(image)] = {"caption": str(record.get("caption", "")), "occlusion": occlusion.get("fraction")}
    return out


def _caption_records(path: Path) -> dict[tuple[str, str], dict]:
    if not path.is_file():
        return {}
    records = {}
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            try:
                record = json.loads(line)
            except ValueError:
                continue   # a damaged line hides one caption, not the others
            if isinstance(record, dict) and "split_dir" in record and "file" in record:
                records[(str(record["split_dir"]), str(record["file"]))] = record
    return records
