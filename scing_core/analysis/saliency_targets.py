"""What a saliency map explains, for an embedding model (no class argmax): pytorch-grad-cam targets.

pytorch-grad-cam calls ``target(output)`` once per image with that image's row of the model output
(here an embedding) and back-propagates the sum of the returned scalars. The targets:

- ``prototype`` — cosine similarity of the projected image embedding to its identity's class text
  prototype (``prototypes.pt``). Only training images have a training identity; for any other image
  (query / gallery of a Market-style split, whose identities are disjoint from the training ones)
  the nearest prototype is used and the result's note says so.
- ``image:PATH`` — cosine similarity of the inference descriptor to that of another image (a
  query–gallery pair): which regions make the two images match.
- ``norm`` — the L2 norm of the inference descriptor.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from scing_core.data.configured import load_configured_dataset
from scing_core.data.datasets.market_layout import MARKET_PATTERN
from scing_core.errors import InputError, ScingError

log = logging.getLogger(__name__)

TARGET_FORMS = "'prototype', 'image:PATH' or 'norm'"


@dataclass(frozen=True)
class TargetSpec:
    """A parsed ``--target``: ``kind`` is prototype | image | norm; ``reference`` = the PATH of ``image:PATH``."""

    kind: str
    reference: str | None = None

    @property
    def feature(self) -> str:
        """The embedding the target reads: the projected feature (``proj``, the prototypes' space)
        for ``prototype``, the inference descriptor (what retrieval ranks with) otherwise."""
        return "proj" if self.kind == "prototype" else "descriptor"

    def __str__(self) -> str:
        return f"image:{self.reference}" if self.kind == "image" else self.kind


def parse_target(text: str) -> TargetSpec:
    """``"prototype"`` | ``"image:PATH"`` | ``"norm"`` -> TargetSpec; anything else is an InputError."""
    raw = str(text).strip()
    kind, sep, rest = raw.partition(":")
    kind = kind.lower()
    if kind == "image" and sep:
        path = Path(rest).expanduser()
        if not rest or not path.is_file():
            raise InputError(f"target '{raw}': reference image '{rest}' not found; give an existing file as image:PATH")
        return TargetSpec("image", str(path))
    if kind in ("prototype", "norm") and not sep:
        return TargetSpec(kind)
    raise InputError(f"unknown saliency target '{raw}'; use {TARGET_FORMS}")


class PrototypeSimilarity:
    """cos(embedding, prototypes[label]); with ``label=None`` the nearest prototype (chosen from the
    detached embedding, so the gradient is that of the chosen prototype's similarity only)."""

    def __init__(self, prototypes: torch.Tensor, label: int | None) -> None:
        self.prototypes = F.normalize(prototypes.float(), dim=-1)
        self.label = label
        self.similarity: float | None = None

    def __call__(self, embedding: torch.Tensor) -> torch.Tensor:
        unit = F.normalize(embedding.float(), dim=-1)
        if self.label is None:
            self.label = int(torch.argmax(self.prototypes @ unit.detach()))
        score = (self.prototypes[self.label] * unit).sum()
        self.similarity = float(score.detach())
        return score


class EmbeddingSimilarity:
    """cos(embedding, reference) for a fixed reference embedding (another image's descriptor)."""

    def __init__(self, reference: torch.Tensor) -> None:
        self.reference = F.normalize(reference.detach().float(), dim=-1)
        self.similarity: float | None = None

    def __call__(self, embedding: torch.Tensor) -> torch.Tensor:
        score = (self.reference * F.normalize(embedding.float(), dim=-1)).sum()
        self.similarity = float(score.detach())
        return score


class EmbeddingNorm:
    """The L2 norm of the embedding."""

    similarity: float | None = None

    def __call__(self, embedding: torch.Tensor) -> torch.Tensor:
        return embedding.float().norm()


def target_note(target) -> str:
    """A short description of what a target ended up measuring (after the CAM ran)."""
    if isinstance(target, PrototypeSimilarity) and target.similarity is not None:
        return f"cos to prototype {target.label} = {target.similarity:.3f}"
    if isinstance(target, EmbeddingSimilarity) and target.similarity is not None:
        return f"cos to reference = {target.similarity:.3f}"
    return ""


class TrainingIdentities:
    """Maps an image path to its training label (the row of ``prototypes.pt``), when it has one.

    A training image is found by its path; any other image of the same dataset folder by its
    original pid (Market-style basename ``<pid>_c<cam>...``), which the training split relabelled
    0..N-1 in sorted order. Images of other datasets have no training identity: the same pid number
    there is another person.
    """

    def __init__(self, train_samples, dataset_root: str | None) -> None:
        self.root = Path(dataset_root).resolve() if dataset_root else None
        self.by_path: dict[str, int] = {}
        self.by_pid: dict[int, int] = {}
        for sample in train_samples:
            self.by_path[str(Path(sample.path).resolve())] = int(sample.pid)
            pid = original_pid(sample.path)
            if pid is not None:
                self.by_pid[pid] = int(sample.pid)

    @classmethod
    def of_run(cls, cfg) -> "TrainingIdentities":
        """The identities of a run's training set (``cfg.data``); empty, with a warning, when that
        dataset can no longer be read (every image then falls back to its nearest prototype)."""
        try:
            dataset = load_configured_dataset(cfg.data.dataset, cfg.data.root, cfg.data)
        except ScingError as exc:
            log.warning("training set of the run not readable (%s); using nearest prototypes", exc)
            return cls([], None)
        return cls(dataset.train, dataset.root)

    def label_of(self, path: str) -> int | None:
        resolved = Path(path).resolve()
        label = self.by_path.get(str(resolved))
        if label is not None or self.root is None or self.root not in resolved.parents:
            return label
        pid = original_pid(path)
        return self.by_pid.get(pid) if pid is not None else None


def original_pid(path: str) -> int | None:
    """The pid of a Market-style basename (``0002_c1s1_...`` -> 2), or None."""
    match = MARKET_PATTERN.match(Path(path).name)
    return int(match.group(1)) if match else None


def camera_index(path: str) -> int | None:
    """The 0-based camera of a Market-style basename (``..._c3...`` -> 2), or None."""
    match = MARKET_PATTERN.match(Path(path).name)
    return int(match.group(2)) - 1 if match else None
