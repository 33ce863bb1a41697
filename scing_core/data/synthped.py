"""SynthPed: a procedural pedestrian dataset written in the Market-1501 layout.

``generate_synthped(out_dir, ...)`` writes::

    out_dir/
      bounding_box_train/0001_c1s1_000123_00.jpg   training identities (pids 1-based)
      query/...                                     test identities, at most one query per camera
      bounding_box_test/...                         test identities + distractors (pid 0)
      masks/<split_dir>/<stem>.png                  visible-person mask, 0 / 255, image size
      captions.jsonl                                one line per image: split_dir, file, pid, camid, caption, attributes
      meta.json                                     parameters, seed, counts, version (written last)

While it runs, ``out_dir/.synthped-incomplete`` exists; ``meta.json`` is written last and the marker
removed after it, so an interrupted run is recognisable and ``overwrite=True`` cleans it up.
The same arguments give byte-identical files. Identities are keyed by ``(identity_seed, pid)``:
``pid_offset`` (or another ``identity_seed``) gives people disjoint from another SynthPed's.
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from scing_core.atomic import write_text_atomic
from scing_core.data.synthped_attributes import Identity, sample_cameras, sample_identity
from scing_core.data.synthped_render import OCCLUSION_RANGE, render_image
from scing_core.errors import DatasetError, InputError

log = logging.getLogger(__name__)

SYNTHPED_VERSION = 1
SPLIT_DIRS = {"train": "bounding_box_train", "query": "query", "gallery": "bounding_box_test"}
MASK_DIR = "masks"
CAPTIONS_FILE = "captions.jsonl"
META_FILE = "meta.json"
INCOMPLETE_MARKER = ".synthped-incomplete"
OCCLUDED_SHARE = {"query": 1.0, "train": 0.2, "gallery": 0.1}  # with occluded=True
QUERIES_PER_ID = 2
JPEG_QUALITY = 92

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ImageSpec:
    """What to draw for one file: who, which camera, where it goes, and its random streams."""

    split: str          # train | query | gallery
    pid: int            # 0 = distractor
    cam: int            # 0-based
    frame: int
    key: tuple          # seeds the image's random stream
    occluded: bool
    distractor: int = -1  # index of the distractor, -1 for identities

    @property
    def file_name(self) -> str:
        return f"{self.pid:04d}_c{self.cam + 1}s1_{self.frame:06d}_00.jpg"


def _check_arguments(ids: int, images_per_id: int, cams: int, size, distractors: int, pid_offset: int,
                     seeds: tuple) -> None:
    problems = [f"seed={s} (seeds are whole numbers >= 0)" for s in seeds if s is not None and (int(s) != s or s < 0)]
    if ids < 2:
        problems.append(f"ids={ids} (need at least 2: one training and one test identity)")
    if images_per_id < 2:
        problems.append(f"images_per_id={images_per_id} (need at least 2 so each query has a gallery match)")
    if not 2 <= cams <= 9:
        problems.append(f"cams={cams} (use 2 to 9 cameras; Market names hold one camera digit)")
    if len(size) != 2 or min(size) < 16 or max(size) > 1024:
        problems.append(f"size={tuple(size)} (use (height, width) between 16 and 1024 pixels)")
    if distractors < 0:
        problems.append(f"distractors={distractors} (use 0 or more)")
    if pid_offset < 0 or pid_offset + ids > 9999:
        problems.append(f"pid_offset={pid_offset} with ids={ids} (pids must stay within 1..9999)")
    if problems:
        raise InputError("SynthPed: invalid " + "; ".join(problems))


def identity_for(pid: int, identity_seed: int, taken: set | None = None) -> Identity:
    """The person with ``pid`` for ``identity_seed``; redrawn while its look is in ``taken``."""
    for attempt in range(100):
        identity = sample_identity(np.random.default_rng([identity_seed, 0, pid, attempt]))
        if taken is None or identity.signature() not in taken:
            break
    if taken is not None:
        taken.add(identity.signature())
    return identity


def plan_images(ids: int, images_per_id: int, cams: int, distractors: int, seed: int, pid_offset: int = 0,
                occluded: bool = False) -> list[ImageSpec]:
    """Assign every image to a split and camera: half the identities train, the others test.

    Each identity appears in 2+ cameras. A test identity gives at most one query per camera (up to
    two), always keeping gallery images in its other cameras, as in Market-1501.
    """
    rng = np.random.default_rng([seed, 3])
    pids = list(range(pid_offset + 1, pid_offset + ids + 1))
    train = set(int(p) for p in rng.choice(pids, size=ids // 2, replace=False))
    frames = [int(v) for v in rng.integers(0, 400, size=cams)]
    specs: list[ImageSpec] = []

    def next_frame(cam: int) -> int:
        frames[cam] += int(rng.integers(5, 80))
        return frames[cam]

    for pid in pids:
        prng = np.random.default_rng([seed, 4, pid])
        k = int(prng.integers(2, max(2, min(cams, images_per_id // 2)) + 1))
        chosen = sorted(int(c) for c in prng.choice(cams, size=k, replace=False))
        counts = 1 + prng.multinomial(images_per_id - k, [1.0 / k] * k)
        cam_of_image = [c for c, n in zip(chosen, counts) for _ in range(int(n))]
        query_cams: set[int] = set()
        if pid not in train:
            candidates = [c for c, n in zip(chosen, counts) if n >= 2] or chosen[:1]
            query_cams = set(int(c) for c in prng.choice(candidates, size=min(QUERIES_PER_ID, len(candidates)), replace=False))
        for j, cam in enumerate(cam_of_image):
            if pid in train:
                split = "train"
            elif cam in query_cams:
                split, query_cams = "query", query_cams - {cam}
            else:
                split = "gallery"
            draw = prng.random()  # drawn either way, so occluded and clean runs share names and pictures
            hidden = occluded and draw < OCCLUDED_SHARE[split]
            specs.append(ImageSpec(split, pid, cam, next_frame(cam), (seed, 1, pid, j), hidden))
    for i in range(distractors):
        cam = int(rng.integers(cams))
        draw = rng.random()
        hidden = occluded and draw < OCCLUDED_SHARE["gallery"]
        specs.append(ImageSpec("gallery", 0, cam, next_frame(cam), (seed, 2, i), hidden, distractor=i))
    return specs


# ----------------------------------------------------------------------------------------- output folder

def synthped_state(out_dir) -> str | None:
    """"complete" (meta.json present), "incomplete" (an interrupted run) or None (not SynthPed)."""
    out = Path(out_dir)
    meta = out / META_FILE
    if meta.is_file():
        try:
            if json.loads(meta.read_text(encoding="utf-8")).get("generator") == "synthped":
                return "complete" if not (out / INCOMPLETE_MARKER).exists() else "incomplete"
        except (OSError, ValueError, AttributeError):
            pass
    return "incomplete" if (out / INCOMPLETE_MARKER).exists() else None


def prepare_output_dir(out_dir, overwrite: bool = False) -> Path:
    """Make ``out_dir`` ready for a new SynthPed. A non-empty folder that is not a SynthPed output
    is never touched; a SynthPed output (complete or interrupted) is replaced only with ``overwrite``.
    """
    out = Path(out_dir).expanduser()
    if out.exists() and not out.is_dir():
        raise DatasetError(f"SynthPed: '{out}' is a file, not a folder; choose a folder path for --out")
    if out.is_dir() and any(out.iterdir()):
        state = synthped_state(out)
        if state is None:
            raise DatasetError(f"SynthPed: '{out}' is not empty and is not a SynthPed output; choose a new or empty "
                               "folder (nothing was written)")
        if not overwrite:
            what = "a SynthPed dataset" if state == "complete" else "an interrupted SynthPed run"
            raise DatasetError(f"SynthPed: '{out}' already holds {what}; pass --force (overwrite=True) to replace it")
        for name in (*SPLIT_DIRS.values(), MASK_DIR):
            shutil.rmtree(out / name, ignore_errors=True)
        for name in (CAPTIONS_FILE, META_FILE, CAPTIONS_FILE + ".tmp", META_FILE + ".tmp"):
            (out / name).unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    return out


# ----------------------------------------------------------------------------------------- generator

def generate_synthped(out_dir, ids: int = 200, images_per_id: int = 10, cams: int = 6, size=(128, 64),
                      occluded: bool = False, seed: int = 0, distractors: int = 100, identity_seed: int | None = None,
                      progress: Progress | None = None, pid_offset: int = 0, overwrite: bool = False) -> dict:
    """Write a SynthPed dataset to ``out_dir`` and return its summary (the content of meta.json).

    ``ids`` identities (half train, half test), ``images_per_id`` images each over 2+ of ``cams``
    cameras, ``distractors`` pid-0 gallery images, images of ``size`` = (height, width).
    ``occluded=True`` hides 20-60 % of the body of every query, 20 % of the training and 10 % of the
    gallery images behind cars, poles, bushes or other pedestrians (masks show the visible person).
    ``identity_seed`` (default: ``seed``) and ``pid_offset`` choose the people; ``progress(done, total)``
    is called after each image. Raises InputError on bad arguments, DatasetError on a bad folder.
    """
    size = tuple(int(v) for v in size)
    _check_arguments(ids, images_per_id, cams, size, distractors, pid_offset, (seed, identity_seed))
    identity_seed = seed if identity_seed is None else int(identity_seed)
    out = prepare_output_dir(out_dir, overwrite)
    params = dict(ids=ids, images_per_id=images_per_id, cams=cams, size=list(size), occluded=occluded, seed=seed,
                  distractors=distractors, identity_seed=identity_seed, pid_offset=pid_offset)
    (out / INCOMPLETE_MARKER).write_text(json.dumps({"generator": "synthped", "parameters": params}), encoding="utf-8")
    for sub in SPLIT_DIRS.values():
        (out / sub).mkdir()
        (out / MASK_DIR / sub).mkdir(parents=True)

    specs = plan_images(ids, images_per_id, cams, distractors, seed, pid_offset, occluded)
    cameras = sample_cameras(seed, cams)
    taken: set = set()
    identities = {pid: identity_for(pid, identity_seed, taken) for pid in sorted({s.pid for s in specs} - {0})}
    records, fractions = [], []
    for done, spec in enumerate(specs, 1):
        record = _write_image(out, spec, identities, cameras, size, seed, identity_seed)
        records.append(record)
        if spec.occluded:
            fractions.append(record["occlusion"]["fraction"])
        if progress is not None:
            progress(done, len(specs))
    records.sort(key=lambda r: (r["split_dir"], r["file"]))
    write_text_atomic(out / CAPTIONS_FILE, "".join(json.dumps(r, sort_keys=True) + "\n" for r in records))
    summary = _summary(params, specs, cameras, fractions)
    write_text_atomic(out / META_FILE, json.dumps(summary, indent=2, sort_keys=True) + "\n")
    (out / INCOMPLETE_MARKER).unlink()
    log.debug("SynthPed: wrote %d images to %s", len(specs), out)
    return summary


def _write_image(out: Path, spec: ImageSpec, identities: dict, cameras: list, size, seed: int, identity_seed: int) -> dict:
    rng = np.random.default_rng(list(spec.key))
    occlusion_rng = np.random.default_rng([seed, 6, *spec.key[1:]]) if spec.occluded else None
    if spec.pid == 0:
        identity = sample_identity(np.random.default_rng([identity_seed, 5, spec.distractor]))
        bad_crop = bool(rng.random() < 0.5)
    else:
        identity, bad_crop = identities[spec.pid], False
    result = render_image(identity, cameras[spec.cam], size, rng, occlusion_rng, bad_crop=bad_crop)
    split_dir = SPLIT_DIRS[spec.split]
    result.image.save(out / split_dir / spec.file_name, quality=JPEG_QUALITY)
    result.mask.save(out / MASK_DIR / split_dir / (Path(spec.file_name).stem + ".png"))
    record = {"split_dir": split_dir, "file": spec.file_name, "pid": spec.pid, "camid": spec.cam,
              "caption": result.caption, "attributes": result.attributes}
    if result.occluder is not None:
        record["occlusion"] = {"occluder": result.occluder, "fraction": result.occluded_fraction}
    return record


def _summary(params: dict, specs: list[ImageSpec], cameras: list, fractions: list[float]) -> dict:
    counts = {}
    for split in SPLIT_DIRS:
        chosen = [s for s in specs if s.split == split]
        counts[split] = {"images": len(chosen), "ids": len({s.pid for s in chosen if s.pid != 0}),
                         "cameras": len({s.cam for s in chosen})}
    counts["gallery"]["distractors"] = sum(1 for s in specs if s.pid == 0)
    summary = {
        "generator": "synthped", "version": SYNTHPED_VERSION, "parameters": params, "counts": counts,
        "layout": {"splits": SPLIT_DIRS, "masks": f"{MASK_DIR}/<split_dir>/<stem>.png", "captions": CAPTIONS_FILE},
        "mask": "visible person only (pixels hidden by an occluder are 0), 0/255, same size as the image",
        "train_pids": sorted({s.pid for s in specs if s.split == "train"}),
        "test_pids": sorted({s.pid for s in specs if s.split != "train" and s.pid != 0}),
        "cameras": [asdict(c) for c in cameras],
    }
    if params["occluded"]:
        summary["occlusion"] = {
            "share_occluded": OCCLUDED_SHARE, "target_range": list(OCCLUSION_RANGE),
            "occluded_images": len(fractions),
            "fraction_mean": round(float(np.mean(fractions)), 4) if fractions else 0.0,
        }
    return summary
