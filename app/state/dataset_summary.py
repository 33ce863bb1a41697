"""The Dataset explorer's view-model (no Qt): per-split counts, images per identity, and each
identity's images with camera, caption and occlusion.

Train identities are relabelled 0..N-1 by the loaders while query and gallery keep the dataset's own
ids, so identities are keyed by *group*: ``train``, or ``test`` (query + gallery share their ids).
Gallery distractors (pid <= 0) count as images of the split but belong to no identity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

SPLITS = ("train", "query", "gallery")
GROUP_OF_SPLIT = {"train": "train", "query": "test", "gallery": "test"}


@dataclass(frozen=True)
class SampleInfo:
    path: str
    split: str
    pid: int
    camid: int
    caption: str = ""
    occlusion: float | None = None     # share of the body hidden (SynthPed-Occluded), None when not occluded

    @property
    def occluded(self) -> bool:
        return self.occlusion is not None


@dataclass(frozen=True)
class SplitStats:
    split: str
    images: int
    ids: int
    cameras: int
    distractors: int
    occluded: int
    images_per_id: tuple[int, ...]

    def histogram(self, max_bars: int = 24) -> tuple[np.ndarray, np.ndarray]:
        """``(bin centres, identities per bin)`` of images per identity: one bar per count while the range
        is small, else ``max_bars`` equal bins."""
        counts = np.asarray(self.images_per_id, dtype=np.int64)
        if not len(counts):
            return np.zeros(0), np.zeros(0, dtype=np.int64)
        low, high = int(counts.min()), int(counts.max())
        if high - low + 1 <= max_bars:
            values = np.arange(low, high + 1)
            return values.astype(np.float64), np.bincount(counts - low, minlength=len(values))
        totals, edges = np.histogram(counts, bins=max_bars)
        return (edges[:-1] + edges[1:]) / 2, totals

    def per_id_text(self) -> str:
        counts = self.images_per_id
        if not counts:
            return "—"
        return f"{min(counts)} / {float(np.median(counts)):g} / {max(counts)}"


@dataclass
class DatasetSummary:
    name: str
    root: str
    stats: dict[str, SplitStats]
    by_identity: dict[tuple[str, int], list[SampleInfo]] = field(default_factory=dict)
    has_captions: bool = False

    @classmethod
    def from_dataset(cls, name: str, dataset, annotations: dict | None = None) -> "DatasetSummary":
        """From an ``api.ReIDDataset`` and ``api.image_annotations`` of its images."""
        notes = annotations or {}
        by_identity: dict[tuple[str, int], list[SampleInfo]] = {}
        stats = {}
        for split in SPLITS:
            samples = [_sample_info(s, split, notes) for s in dataset.split(split)]
            for sample in samples:
                if sample.pid > 0 or split == "train":
                    by_identity.setdefault((GROUP_OF_SPLIT[split], sample.pid), []).append(sample)
            stats[split] = _split_stats(split, samples)
        ordered = dict(sorted(by_identity.items(), key=lambda item: (item[0][0] != "train", item[0][1])))
        return cls(name, str(dataset.root), stats, ordered, bool(notes))

    def table_rows(self) -> list[list[str]]:
        """Rows: split, identities, images, cameras, images per identity (min / median / max), occluded."""
        rows = []
        for split in SPLITS:
            s = self.stats[split]
            extra = f" (+{s.distractors} distractors)" if s.distractors else ""
            occluded = f"{s.occluded} ({100 * s.occluded / s.images:.0f} %)" if s.images and self.has_captions else "—"
            rows.append([split, str(s.ids), f"{s.images}{extra}", str(s.cameras), s.per_id_text(), occluded])
        return rows

    def identity_keys(self, group: str | None = None) -> list[tuple[str, int]]:
        return [key for key in self.by_identity if group is None or key[0] == group]

    def identity_label(self, key: tuple[str, int]) -> str:
        samples = self.by_identity.get(key, [])
        per_split = ", ".join(f"{sum(s.split == split for s in samples)} {split}" for split in SPLITS
                              if any(s.split == split for s in samples))
        occluded = sum(s.occluded for s in samples)
        marks = f" · {occluded} occluded" if occluded else ""
        return f"{key[0]} · id {key[1]} — {per_split}{marks}"

    def samples_of(self, key: tuple[str, int]) -> list[SampleInfo]:
        """An identity's images, by split (train, query, gallery) then camera and file name."""
        order = {split: i for i, split in enumerate(SPLITS)}
        return sorted(self.by_identity.get(key, []), key=lambda s: (order[s.split], s.camid, Path(s.path).name))


def _sample_info(sample, split: str, notes: dict) -> SampleInfo:
    note = notes.get(str(sample.path)) or {}
    return SampleInfo(str(sample.path), split, int(sample.pid), int(sample.camid), str(note.get("caption", "")),
                      note.get("occlusion"))


def _split_stats(split: str, samples: list[SampleInfo]) -> SplitStats:
    per_id: dict[int, int] = {}
    for sample in samples:
        if sample.pid > 0 or split == "train":
            per_id[sample.pid] = per_id.get(sample.pid, 0) + 1
    distractors = sum(1 for s in samples if s.pid <= 0) if split != "train" else 0
    return SplitStats(split, len(samples), len(per_id), len({s.camid for s in samples}), distractors,
                      sum(s.occluded for s in samples), tuple(per_id[pid] for pid in sorted(per_id)))


def _normalised(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def guess_dataset_name(folder, names) -> str | None:
    """The registered dataset whose name starts the folder's name (``synthped_occluded`` -> ``synthped``,
    ``Market-1501-v15.09.15`` -> ``market1501``); the longest such name wins; None when none does."""
    folder_name = _normalised(Path(folder).name)
    matches = [name for name in names if _normalised(name) and folder_name.startswith(_normalised(name))]
    return max(matches, key=lambda name: len(_normalised(name))) if matches else None
