"""Person share over a SynthPed split: the number that goes with the saliency picture.

The person share of one map is the share of its energy on the person mask. Its chance level is the
mask's area: a uniform map puts that share on the person. A run that attends to the person scores
well above it; one that looks at the background or the frame scores below.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from scing_core.analysis.saliency import compute_saliency
from scing_core.analysis.saliency_images import person_mask
from scing_core.data.datasets import load_dataset
from scing_core.errors import InputError
from scing_core.runs.trained import TrainedRun


@dataclass(frozen=True)
class PersonShareSummary:
    """``mean`` / ``std`` of the person share over ``n_images`` maps (all-zero maps skipped and
    counted in ``n_zero_maps``), ``mask_area`` = mean fraction of pixels on the person (the share a
    uniform map would get), and ``per_image`` = (path, share) pairs."""

    run: str
    split: str
    method: str
    target: str
    mean: float
    std: float
    n_images: int
    n_zero_maps: int
    mask_area: float
    per_image: list[tuple[str, float]] = field(default_factory=list)


def spread_samples(samples, count: int):
    """``count`` samples evenly spread over the list sorted by path (deterministic; all if fewer)."""
    ordered = sorted(samples, key=lambda s: s.path)
    if count >= len(ordered):
        return ordered
    picks = np.unique(np.linspace(0, len(ordered) - 1, num=count).round().astype(int))
    return [ordered[i] for i in picks]


def person_share_summary(
    run_dir,
    dataset_root=None,
    n_images: int = 32,
    split: str = "query",
    target: str = "prototype",
    method: str = "gradcam",
    checkpoint: str = "selected",
    device: str = "auto",
    model_bundle=None,
) -> PersonShareSummary:
    """Person share of ``n_images`` images of a SynthPed ``split`` (query by default) under a run.

    ``dataset_root``: the SynthPed folder (or its parent); None = the run's own ``data.root``.
    """
    if n_images < 1:
        raise InputError(f"n_images must be >= 1, got {n_images}")
    if model_bundle is None:
        model_bundle = TrainedRun.open(run_dir).load(checkpoint, device, prototypes=target == "prototype")
    cfg = model_bundle[1]
    dataset = load_dataset("synthped", str(dataset_root) if dataset_root is not None else cfg.data.root)
    if "mask_dir" not in dataset.extras:
        raise InputError(f"'{dataset.root}' has no masks/ folder; the person share needs SynthPed person masks "
                         "(write one with `scing synth`)")
    if split not in ("train", "query", "gallery"):
        raise InputError(f"split must be train, query or gallery, got '{split}'")
    samples = spread_samples(dataset.split(split), n_images)
    results = compute_saliency(run_dir, [s.path for s in samples], target=target, method=method,
                               model_bundle=model_bundle)
    shares = [(r.path, r.person_share) for r in results if r.person_share is not None]
    valid = [s for _, s in shares if not math.isnan(s)]
    areas = [float(m.mean()) for r in results if (m := person_mask(r.path, r.cam.shape)) is not None]
    return PersonShareSummary(
        run=results[0].run, split=split, method=method, target=str(results[0].target),
        mean=float(np.mean(valid)) if valid else float("nan"), std=float(np.std(valid)) if valid else float("nan"),
        n_images=len(valid), n_zero_maps=len(shares) - len(valid),
        mask_area=float(np.mean(areas)) if areas else float("nan"), per_image=shares,
    )
