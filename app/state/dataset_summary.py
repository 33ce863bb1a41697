"""The Dataset explorer's view-model (no Qt): per-split counts, images per identity, and each
identity's images with camera, caption and occlusion.

Train identities are relabelled 0..N-1 by the loaders while query and gallery keep the dataset's own
ids, so identities are keyed by *group*: ``train``, or ``test`` (query + gallery share their ids).
Gallery distractors (pid <= 0) count as images of the split but belong to no identity.

:class:`DatasetState` is the Dataset panel's evented model: the workspace's data folders, the loader and
folder to open, the dataset shown (loaded in a worker: a load overtaken by another, or by another
workspace, is dropped), the identities of the group chosen and the identity whose images are shown, and
the image pointed out among them (another tab's link to one image: :meth:`DatasetState.show_image`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import ClassVar

import numpy as np
from psygnal import Signal

from app.state.evented import EventedState, Placeholder

SPLITS = ("train", "query", "gallery")
GROUP_OF_SPLIT = {"train": "train", "query": "test", "gallery": "test"}
GROUPS = {"all": None, "train identities": "train", "query + gallery identities": "test"}   # label -> group
NO_DATA = ("No dataset open. Pick a loader and a dataset folder above (the workspace's data/ folders are listed), "
           "then press Open.")


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


@dataclass(eq=False)
class DatasetSummary:
    name: str
    root: str
    stats: dict[str, SplitStats]
    by_identity: dict[tuple[str, int], list[SampleInfo]] = field(default_factory=dict)
    has_captions: bool = False
    _identity_by_path: dict | None = field(default=None, repr=False)   # built on first use

    @classmethod
    def from_dataset(cls, name: str, dataset, annotations: dict | None = None) -> "DatasetSummary":
        """From an ``api.ReIDDataset`` and ``api.image_annotations`` of its images."""
        notes = annotations or {}
        own_pid = getattr(dataset, "dataset_pid", lambda split, pid: pid)   # training labels -> the dataset's ids
        by_identity: dict[tuple[str, int], list[SampleInfo]] = {}
        stats = {}
        for split in SPLITS:
            samples = [_sample_info(s, split, notes, own_pid(split, s.pid)) for s in dataset.split(split)]
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

    def identity_of(self, path) -> tuple[str, int] | None:
        """The identity whose images include the image at ``path`` (None: no identity's image here)."""
        if self._identity_by_path is None:
            self._identity_by_path = {s.path: key for key, samples in self.by_identity.items() for s in samples}
        return self._identity_by_path.get(str(path))

    def samples_of(self, key: tuple[str, int]) -> list[SampleInfo]:
        """An identity's images, by split (train, query, gallery) then camera and file name."""
        order = {split: i for i, split in enumerate(SPLITS)}
        return sorted(self.by_identity.get(key, []), key=lambda s: (order[s.split], s.camid, Path(s.path).name))


def _sample_info(sample, split: str, notes: dict, pid: int) -> SampleInfo:
    """``pid``: the dataset's own person id (training splits hold labels 0..N-1 instead)."""
    note = notes.get(str(sample.path)) or {}
    return SampleInfo(str(sample.path), split, int(pid), int(sample.camid), str(note.get("caption", "")),
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


@dataclass(frozen=True)
class DatasetSource:
    """The loader and the folder the panel's header shows (what Open opens)."""

    loader: str = ""
    folder: str = ""


@dataclass(frozen=True, eq=False)
class DatasetSamples:
    """An identity's images with their thumbnails (decoded in a worker; opaque here)."""

    key: tuple
    samples: list
    images: list


class DatasetState(EventedState):
    """The dataset shown and the identity browsed. Signals (each once per change):

    - ``reset()``: another workspace: its data folders, the dataset loading (or none), nothing browsed;
    - ``folders_changed(tuple)``, ``source_changed(DatasetSource)``: the header;
    - ``shown_changed(DatasetSummary | Placeholder)``: the dataset, 'Loading…', an error or nothing open;
    - ``group_changed(str)``, ``identities_changed(tuple)``: the identity list (keys ``(group, pid)``);
    - ``identity_changed(key | None)``: the identity browsed (its thumbnails are to be loaded);
    - ``samples_changed(DatasetSamples | None)``: the images in the grid;
    - ``image_changed(path | None)``: the image pointed out in the grid (another tab showed it here);
    - ``loaded(DatasetSummary)``: a dataset was read; ``error_reported(str)`` / ``error_cleared()``.
    """

    reset = Signal()
    folders_changed = Signal(tuple)
    source_changed = Signal(object)
    shown_changed = Signal(object)
    group_changed = Signal(str)
    identities_changed = Signal(tuple)
    identity_changed = Signal(object)
    samples_changed = Signal(object)
    image_changed = Signal(object)
    loaded = Signal(object)
    error_reported = Signal(str)
    error_cleared = Signal()

    EVENTED: ClassVar[dict[str, str]] = {
        "folders": "folders_changed", "source": "source_changed", "shown": "shown_changed", "group": "group_changed",
        "identities": "identities_changed", "identity": "identity_changed", "samples": "samples_changed",
        "image": "image_changed"}

    def __init__(self, loader_names=()) -> None:
        super().__init__()
        self.loader_names = tuple(loader_names)
        self.workspace: Path | None = None
        self.folders: tuple[str, ...] = ()
        self.source = DatasetSource(self.loader_names[0] if self.loader_names else "")
        self.shown: object = Placeholder(NO_DATA)
        self.group = next(iter(GROUPS))
        self.identities: tuple = ()
        self.identity: tuple | None = None
        self.samples: DatasetSamples | None = None
        self.image: str | None = None          # the image pointed out (shown from another tab)
        self._wanted_image: str | None = None  # the image to point out once the dataset loading is shown
        self._ticket = 0            # the dataset load awaited
        self._samples_ticket = 0    # the thumbnails awaited

    @property
    def summary(self) -> DatasetSummary | None:
        return self.shown if isinstance(self.shown, DatasetSummary) else None

    # -- the workspace and the header -----------------------------------------------------------------------
    def set_workspace(self, path, folders) -> tuple[int, str, str] | None:
        """Offer the workspace's data folders that a loader recognises; another workspace clears the view
        (one ``reset``) and opens the first of them: returns that load ``(ticket, loader, folder)``."""
        path = Path(path) if path is not None else None
        if path == self.workspace:
            return None
        known = [(str(folder), guess_dataset_name(folder, self.loader_names)) for folder in folders]
        known = [(folder, name) for folder, name in known if name is not None]
        with self._changing(reset=True):
            self.workspace, self.folders = path, tuple(folder for folder, _ in known)
            self._clear()
            self.source = DatasetSource(known[0][1], known[0][0]) if known else replace(self.source, folder="")
            return self.load(known[0][1], known[0][0]) if known else None

    def set_loader(self, name: str) -> None:
        with self._changing():
            self.source = replace(self.source, loader=name)

    def set_folder(self, folder: str) -> None:
        with self._changing():
            self.source = replace(self.source, folder=str(folder))

    def pick_folder(self, folder) -> None:
        """A folder chosen: the loader whose name starts the folder's name, when one does."""
        name = guess_dataset_name(folder, self.loader_names)
        with self._changing():
            self.source = DatasetSource(name or self.source.loader, str(folder))

    # -- loading --------------------------------------------------------------------------------------------
    def load(self, name: str, root) -> tuple[int, str, str]:
        """Open dataset ``name`` at ``root`` (read by the caller, in a worker): the view is cleared until it
        arrives. Returns ``(ticket, name, root)``."""
        with self._changing():
            self._clear()
            self._ticket += 1
            self.shown = Placeholder(f"Loading {name} from {root}…")
            self.source = replace(self.source, folder=str(root))
        return self._ticket, name, str(root)

    def _clear(self) -> None:
        self._ticket += 1               # loads still running are dropped when they arrive
        self._samples_ticket += 1
        self.shown, self.identities, self.identity, self.samples = Placeholder(NO_DATA), (), None, None
        self.image = self._wanted_image = None
        self._clear_error()

    def show_loaded(self, ticket: int, summary: DatasetSummary) -> None:
        if ticket == self._ticket:
            with self._changing():
                self.shown = summary
                self._list_identities()
                self._point_out_wanted(summary)
                self._event(self.loaded, summary)

    def show_failure(self, ticket: int, name: str, root, message: str) -> None:
        if ticket == self._ticket:
            text = f"Cannot open {name} at {root}: {message}"
            with self._changing():
                self.shown, self._wanted_image = Placeholder(text, error=True), None
                self.report_error(text)

    # -- identities -----------------------------------------------------------------------------------------
    def set_group(self, label: str) -> None:
        """Browse the identities of a group (a ``GROUPS`` label): the first one is shown."""
        with self._changing():
            self.group, self.image = label, None
            self._list_identities()

    def _list_identities(self) -> None:
        summary = self.summary
        self.identities = tuple(summary.identity_keys(GROUPS[self.group])) if summary is not None else ()
        if self.identities:
            self._browse(self.identities[0])
        else:
            self.identity = None   # the grid keeps what it shows

    def select_identity(self, key) -> None:
        """Show identity ``key`` (``(group, pid)``); its thumbnails are loaded by the caller (:meth:`samples_load`)."""
        if self.summary is not None and key is not None:
            with self._changing():
                if tuple(key) != self.identity:
                    self.image = None
                self._browse(tuple(key))

    # -- one image, shown from another tab ------------------------------------------------------------------
    def show_image(self, path, loader: str = "") -> tuple[int, str, str] | None:
        """Browse the identity of the image at ``path`` with the image pointed out. When the dataset shown
        does not hold it, the dataset that does opens first (read by the caller, in a worker): loader
        ``loader`` (e.g. the run's dataset) or the one its folder's name suggests, folder the workspace data
        folder holding the image or else its split folder's parent. Returns that load, or None."""
        path = str(path)
        if self.summary is not None and self.summary.identity_of(path) is not None:
            with self._changing():
                self._point_out(path)
            return None
        image = Path(path)
        root = next((folder for folder in self.folders if Path(folder) in image.parents), str(image.parent.parent))
        name = loader if loader in self.loader_names else guess_dataset_name(root, self.loader_names)
        with self._changing():
            load = self.load(name or self.source.loader, root)
            self.source = replace(self.source, loader=name or self.source.loader)
            self._wanted_image = path
        return load

    def _point_out(self, path: str) -> None:
        """Browse the identity of ``path`` (its group listed, unless all identities are) and point it out."""
        key = self.summary.identity_of(path)
        if GROUPS[self.group] not in (None, key[0]):
            self.group = next(label for label, group in GROUPS.items() if group == key[0])
            self.identities = tuple(self.summary.identity_keys(key[0]))
        self._browse(key)
        self.image = path

    def _point_out_wanted(self, summary: DatasetSummary) -> None:
        wanted, self._wanted_image = self._wanted_image, None
        if wanted is None:
            return
        if summary.identity_of(wanted) is not None:
            self._point_out(wanted)
        else:
            self.report_error(f"{Path(wanted).name} is no image of an identity of {summary.name} at {summary.root}")

    def _browse(self, key: tuple) -> None:
        if key != self.identity:
            self.identity = key
            self._samples_ticket += 1

    def identity_label(self) -> str:
        return self.summary.identity_label(self.identity) if self.summary is not None and self.identity else ""

    def samples_load(self) -> tuple[int, tuple, list] | None:
        """The thumbnails to load for the identity browsed: ``(ticket, key, samples)``."""
        if self.summary is None or self.identity is None:
            return None
        return self._samples_ticket, self.identity, self.summary.samples_of(self.identity)

    def show_samples(self, ticket: int, key, samples, images) -> None:
        if ticket == self._samples_ticket:
            with self._changing():
                self.samples = DatasetSamples(tuple(key), list(samples), list(images))
