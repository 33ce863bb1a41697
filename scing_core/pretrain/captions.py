"""SynthCLIP's data: a SynthPed of other people, its caption records, images, and the identity check.

Pre-training people are made disjoint from any demo / ReID SynthPed in two independent ways:

- their pids start at ``PID_OFFSET + 1`` (5001...), while ``scing synth`` and the demo number from 1
  (SynthPed identities are keyed by ``(identity_seed, pid)``: another pid is another person);
- they are drawn with ``identity_seed = IDENTITY_SEED_BASE + seed`` instead of the demo's ``seed``.

:func:`shared_identities` checks it for any two SynthPed folders (or parameter sets): same keys and
look-alikes (same discrete attributes), recomputed exactly as the generator drew them.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from PIL import Image

from scing_core.data.synthped import (CAPTIONS_FILE, INCOMPLETE_MARKER, META_FILE, SPLIT_DIRS, generate_synthped,
                                      identity_for, synthped_state)
from scing_core.data.synthped_attributes import caption
from scing_core.errors import DatasetError, InputError

log = logging.getLogger(__name__)

PID_OFFSET = 5000              # pre-training pids are 5001..5000+ids; the demo's are 1..ids
IDENTITY_SEED_BASE = 1000      # pre-training people: identity_seed = 1000 + seed (the demo's: seed)
IMAGE_SIZE = (128, 64)         # (height, width): SynthPed's size, SynthCLIP's input
TRAIN_SPLITS = ("train",)
HELD_OUT_SPLITS = ("query", "gallery")


@dataclass(frozen=True)
class CaptionRecord:
    """One image and what is visible in it (a line of ``captions.jsonl``)."""

    path: str
    split: str         # train | query | gallery
    pid: int
    caption: str
    attributes: dict


def pretraining_parameters(ids: int, images_per_id: int, seed: int, cams: int = 6) -> dict:
    """The ``generate_synthped`` arguments of SynthCLIP's pre-training SynthPed (as in its meta.json)."""
    return dict(ids=int(ids), images_per_id=int(images_per_id), cams=int(cams), size=list(IMAGE_SIZE),
                occluded=False, seed=int(seed), distractors=0, identity_seed=IDENTITY_SEED_BASE + int(seed),
                pid_offset=PID_OFFSET)


def read_meta(data_dir) -> dict:
    """``meta.json`` of a complete SynthPed folder, or a DatasetError saying what is wrong."""
    folder = Path(data_dir)
    if synthped_state(folder) != "complete":
        raise DatasetError(f"'{folder}' is not a complete SynthPed folder (no meta.json, or an interrupted run); "
                           "write one with `scing synth --out DIR` or let `scing synthclip` generate it")
    return json.loads((folder / META_FILE).read_text(encoding="utf-8"))


def prepare_pretraining_data(data_dir, ids: int, images_per_id: int, seed: int,
                             progress: Callable[[int, int], None] | None = None) -> Path:
    """Make sure ``data_dir`` holds the pre-training SynthPed for these arguments; returns the folder.

    A complete folder with the same parameters is reused; an interrupted one, or one an earlier
    SynthCLIP run generated with other parameters, is regenerated. Any other SynthPed (e.g. the
    demo's own, whose people must stay unseen) is refused with a DatasetError.
    """
    folder = Path(data_dir).expanduser()
    params = pretraining_parameters(ids, images_per_id, seed)
    state = synthped_state(folder)
    if state is not None:
        existing = _parameters_of(folder, state)
        if state == "complete" and existing == params:
            log.info("reusing the pre-training SynthPed in %s", folder)
            return folder
        if existing.get("pid_offset") != PID_OFFSET:
            raise DatasetError(
                f"'{folder}' holds a SynthPed that SynthCLIP did not make (pid_offset={existing.get('pid_offset')}); "
                "its people may be the ReID splits' own. Pass an empty or new folder as --data (data_dir)")
        log.warning("regenerating %s: its SynthCLIP data %s", folder,
                    "was interrupted" if state == "incomplete" else "was made with other parameters")
    generate_synthped(folder, ids=params["ids"], images_per_id=params["images_per_id"], cams=params["cams"],
                      size=tuple(params["size"]), occluded=False, seed=params["seed"], distractors=0,
                      identity_seed=params["identity_seed"], pid_offset=params["pid_offset"], progress=progress,
                      overwrite=state is not None)
    return folder


def _parameters_of(folder: Path, state: str) -> dict:
    """The generator parameters of a complete (meta.json) or interrupted (marker file) SynthPed."""
    source = folder / (META_FILE if state == "complete" else INCOMPLETE_MARKER)
    try:
        return dict(json.loads(source.read_text(encoding="utf-8")).get("parameters") or {})
    except (OSError, ValueError, AttributeError):
        return {}


def read_caption_records(data_dir, splits=HELD_OUT_SPLITS) -> list[CaptionRecord]:
    """The images of ``splits`` (train / query / gallery) with their captions, in file order."""
    folder = Path(data_dir)
    captions = folder / CAPTIONS_FILE
    if not captions.is_file():
        raise DatasetError(f"'{folder}' has no {CAPTIONS_FILE}: SynthCLIP needs a SynthPed folder with captions "
                           "(written by `scing synth`)")
    unknown = [s for s in splits if s not in SPLIT_DIRS]
    if unknown:
        raise InputError(f"unknown split(s) {', '.join(map(str, unknown))}; use {', '.join(SPLIT_DIRS)}")
    wanted = {SPLIT_DIRS[s]: s for s in splits}
    records = []
    for number, line in enumerate(captions.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            split_dir = row["split_dir"]
            if split_dir in wanted:
                records.append(CaptionRecord(str(folder / split_dir / row["file"]), wanted[split_dir], int(row["pid"]),
                                             str(row["caption"]), dict(row["attributes"])))
        except (ValueError, KeyError, TypeError) as exc:
            raise DatasetError(f"{captions}, line {number}: not a SynthPed caption record ({exc})") from exc
    if not records:
        raise DatasetError(f"'{folder}' has no captioned images in the {'/'.join(splits)} split(s)")
    return records


def load_images(records: list[CaptionRecord], size: tuple[int, int] = IMAGE_SIZE) -> torch.Tensor:
    """The records' images as one uint8 tensor [N, 3, H, W], resized (bicubic) to ``size`` when needed."""
    height, width = size
    out = torch.empty((len(records), 3, height, width), dtype=torch.uint8)
    for i, record in enumerate(records):
        try:
            with Image.open(record.path) as image:
                image = image.convert("RGB")
                if image.size != (width, height):
                    image = image.resize((width, height), Image.BICUBIC)
                out[i] = torch.from_numpy(np.asarray(image).copy()).permute(2, 0, 1)
        except OSError as exc:
            raise DatasetError(f"cannot read image '{record.path}' ({exc}); regenerate the SynthPed folder") from exc
    return out


# ----------------------------------------------------------------------------------------- text augmentation

# attribute groups a partial caption keeps or drops together (``synthped_attributes.caption`` needs each whole)
CAPTION_GROUPS = (("gender",), ("hair_colour", "hair_length"), ("hat", "hat_colour"),
                  ("top_colour", "top_pattern", "top_second_colour", "sleeves"), ("bottom_colour", "bottom_type"),
                  ("shoes_colour",), ("bag", "bag_colour"))


def partial_caption(attributes: dict, generator: torch.Generator, keep_p: float = 0.5) -> str:
    """A caption of a random subset (each group kept with probability ``keep_p``, at least one) of an
    image's visible attributes, worded by SynthPed's own captioner ("a person wearing a red short-sleeved
    top": without its gender group, a caption says "person")."""
    present = [g for g in CAPTION_GROUPS if g[0] in attributes]
    if not present:
        return caption(attributes)
    keep = torch.rand(len(present), generator=generator) < keep_p
    if not bool(keep.any()):
        keep[int(torch.randint(len(present), (1,), generator=generator))] = True
    return caption({k: attributes[k] for g, kept in zip(present, keep.tolist()) if kept for k in g if k in attributes})


class CaptionSampler:
    """Token ids for a batch of training images: the image's caption, or with probability
    ``partial_p`` a partial caption (:func:`partial_caption` with ``keep_p``), so that shorter phrases
    such as "a person carrying a backpack" mean something to the model too."""

    def __init__(self, records: list[CaptionRecord], partial_p: float = 0.0, keep_p: float = 0.5,
                 tokenize: Callable[[list[str]], torch.Tensor] | None = None) -> None:
        from scing_core.pretrain.model import tokenize as clip_tokenize   # here: that module imports this one

        self.records, self.partial_p, self.keep_p = records, float(partial_p), float(keep_p)
        self.tokenize = tokenize or clip_tokenize
        self.full = self.tokenize([r.caption for r in records])

    def __len__(self) -> int:
        return len(self.records)

    def tokens(self, indices: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """[B, context_length] token ids for the images at ``indices``."""
        batch = self.full[indices].clone()
        if self.partial_p <= 0:
            return batch
        chosen = (torch.rand(len(indices), generator=generator) < self.partial_p).nonzero().flatten().tolist()
        if chosen:
            texts = [partial_caption(self.records[int(indices[i])].attributes, generator, self.keep_p) for i in chosen]
            batch[chosen] = self.tokenize(texts)
        return batch


# ----------------------------------------------------------------------------------------- identities

def identity_signatures(params: dict) -> dict[tuple[int, int], tuple]:
    """``{(identity_seed, pid): signature}`` of every identity a SynthPed with ``params`` draws,
    recomputed exactly as ``generate_synthped`` draws them (distractors excluded)."""
    identity_seed = params["identity_seed"] if params.get("identity_seed") is not None else params["seed"]
    offset = int(params.get("pid_offset", 0))
    taken: set = set()
    pids = range(offset + 1, offset + int(params["ids"]) + 1)
    return {(int(identity_seed), pid): identity_for(pid, int(identity_seed), taken).signature() for pid in pids}


def shared_identities(a, b) -> dict:
    """People two SynthPeds have in common: ``{"same_people": [...], "look_alikes": [...]}``.

    ``a`` / ``b``: a SynthPed folder or its parameters (meta.json's ``parameters``). Same people =
    same ``(identity_seed, pid)`` key; look-alikes = different keys, identical discrete attributes.
    Both lists empty means disjoint identities.
    """
    sig_a, sig_b = (identity_signatures(read_meta(x)["parameters"] if not isinstance(x, dict) else x) for x in (a, b))
    same = sorted(set(sig_a) & set(sig_b))
    looks_b: dict[tuple, list] = {}
    for key, signature in sig_b.items():
        looks_b.setdefault(signature, []).append(key)
    alike = sorted((ka, kb) for ka, s in sig_a.items() for kb in looks_b.get(s, []) if ka != kb)
    return {"same_people": [list(k) for k in same], "look_alikes": [[list(ka), list(kb)] for ka, kb in alike]}
