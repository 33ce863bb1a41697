"""Plain data types shared by every dataset loader."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple


class ReIDSample(NamedTuple):
    """One image: ``path, pid, camid = sample`` works. camid is 0-based."""

    path: str
    pid: int
    camid: int


@dataclass
class ReIDDataset:
    """A benchmark's three splits.

    ``train`` pids are relabelled 0..num_train_pids-1 (sorted by original pid); ``query`` and
    ``gallery`` keep the original pids (0 = distractor in Market-style galleries). ``real_cameras``:
    the camids name cameras (False where they name something else, e.g. P-DukeMTMC's and
    Occluded-REID's occluded 0 / whole body 1: the protocol uses them, SIE must not).
    """

    name: str
    root: str
    train: list[ReIDSample]
    query: list[ReIDSample]
    gallery: list[ReIDSample]
    num_cams: int
    extras: dict = field(default_factory=dict)
    real_cameras: bool = True

    def dataset_pid(self, split: str, pid: int) -> int:
        """The dataset's own person id of ``pid`` in ``split`` (the number in its file names): training labels
        0..N-1 map back through ``extras["train_pids"]``; a validation split's query / gallery hold training
        labels too (``extras["test_pids"]``); other splits keep the original ids."""
        table = self.extras.get("train_pids" if split == "train" else "test_pids")
        return int(table[pid]) if table is not None and 0 <= pid < len(table) else int(pid)

    @property
    def sie_cameras(self) -> int:
        """Camera embeddings SIE may learn from this training set: its cameras, none without real ones."""
        return self.num_cams if self.real_cameras else 0

    @property
    def num_train_pids(self) -> int:
        return len({s.pid for s in self.train})

    def split(self, name: str) -> list[ReIDSample]:
        if name not in ("train", "query", "gallery"):
            raise ValueError(f"unknown split '{name}'; use train, query or gallery")
        return getattr(self, name)

    def summary(self) -> list[tuple[str, int, int, int]]:
        """Rows ``(split, ids, images, cameras)`` for ``scing data info``."""
        rows = []
        for split in ("train", "query", "gallery"):
            samples = self.split(split)
            rows.append((split, len({s.pid for s in samples}), len(samples), len({s.camid for s in samples})))
        return rows
