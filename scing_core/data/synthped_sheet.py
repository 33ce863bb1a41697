"""Contact sheets of a SynthPed folder: one row per identity (queries first, with a red frame),
so that a person can check at a glance that the pictures read as pedestrians."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image, ImageDraw

from scing_core.atomic import atomic_open
from scing_core.data.synthped import CAPTIONS_FILE, MASK_DIR, SPLIT_DIRS
from scing_core.errors import DatasetError

_ORDER = {SPLIT_DIRS["query"]: 0, SPLIT_DIRS["gallery"]: 1, SPLIT_DIRS["train"]: 2}


def _records(root: Path) -> list[dict]:
    path = root / CAPTIONS_FILE
    if not path.is_file():
        raise DatasetError(f"SynthPed: no {CAPTIONS_FILE} in '{root}'; is it a finished SynthPed folder?")
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def render_contact_sheet(root, path, rows: int = 8, per_row: int = 8, zoom: int = 2, with_masks: bool = False) -> Path:
    """Write a PNG of ``rows`` identities x ``per_row`` images from the SynthPed at ``root``.

    Test identities come first (queries framed in red), then training identities, then one row of
    distractors. ``with_masks`` tints the visible-person mask of each image. Returns the PNG path.
    """
    root = Path(root)
    by_pid: dict[int, list[dict]] = {}
    for rec in _records(root):
        by_pid.setdefault(rec["pid"], []).append(rec)
    tested = [p for p in sorted(by_pid) if p and any(r["split_dir"] == SPLIT_DIRS["query"] for r in by_pid[p])]
    trained = [p for p in sorted(by_pid) if p and p not in tested]
    chosen = (tested[: (rows + 1) // 2] + trained)[: rows - (1 if 0 in by_pid else 0)] + ([0] if 0 in by_pid else [])
    first = by_pid[chosen[0]][0]
    with Image.open(root / first["split_dir"] / first["file"]) as im:
        w, h = im.size[0] * zoom, im.size[1] * zoom
    pad, label_w = 3, 44
    sheet = Image.new("RGB", (label_w + per_row * (w + pad) + pad, len(chosen) * (h + pad) + pad), (245, 245, 245))
    draw = ImageDraw.Draw(sheet)
    for row, pid in enumerate(chosen):
        y = pad + row * (h + pad)
        draw.text((4, y + h // 2 - 6), "junk" if pid == 0 else f"{pid:04d}", fill=(0, 0, 0))
        recs = sorted(by_pid[pid], key=lambda r: (_ORDER[r["split_dir"]], r["camid"], r["file"]))[:per_row]
        for col, rec in enumerate(recs):
            x = label_w + pad + col * (w + pad)
            tile = _tile(root, rec, (w, h), with_masks)
            sheet.paste(tile, (x, y))
            if rec["split_dir"] == SPLIT_DIRS["query"]:
                draw.rectangle((x - 1, y - 1, x + w, y + h), outline=(220, 0, 0), width=2)
    out = Path(path)
    with atomic_open(out, "wb") as fh:
        sheet.save(fh, format="JPEG" if out.suffix.lower() in (".jpg", ".jpeg") else "PNG")
    return out


def _tile(root: Path, rec: dict, size: tuple[int, int], with_masks: bool) -> Image.Image:
    with Image.open(root / rec["split_dir"] / rec["file"]) as im:
        tile = im.convert("RGB").resize(size, Image.BICUBIC)
    if with_masks:
        mask_path = root / MASK_DIR / rec["split_dir"] / (Path(rec["file"]).stem + ".png")
        with Image.open(mask_path) as m:
            mask = m.convert("L").resize(size, Image.NEAREST)
        tint = Image.new("RGB", size, (0, 200, 0))
        tile = Image.composite(Image.blend(tile, tint, 0.45), tile, mask)
    return tile
