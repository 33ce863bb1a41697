"""Retrieval under increasing occlusion of the queries (tests the paper's PDCA robustness claim).

Each run is re-evaluated on its test dataset with every query image damaged at increasing
*occluded fractions* of its area, in two modes:

- ``occlude``: a synthetic occluder (pole / box / bush, textured) pasted over exactly
  ``round(fraction * H * W)`` pixels (:func:`scing_core.data.perturbations.occlude_tensor`);
- ``erase``: random erasing of a rectangle of the same area (aspect ratio drawn in 0.3-3.3, clipped
  to the image), filled with 0 in normalised space = the mean colour, like the train transform's
  random erasing.

The gallery stays clean and its features are extracted once per run. The damage to query ``i`` at a
given (mode, fraction) depends only on ``(seed, mode, fraction, i)``, so every run sees the same
occluders and a rerun gives the same numbers. Fraction 0 is the clean query set: with the run's
final checkpoint (``last``) it reproduces the run's own eval mAP.
"""

from __future__ import annotations

import contextlib
import logging
import math
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from matplotlib.lines import Line2D
from torchvision.transforms import functional as TF

from scing_core.analysis.figure_io import COLUMN_WIDTH_IN, PALETTE, paper_style, plt, save_figure
from scing_core.data.loaders import ConfiguredLoaders, mix_seed
from scing_core.data.perturbations import occlude_tensor
from scing_core.data.configured import load_configured_dataset, test_datasets, training_cameras
from scing_core.evaluation import metrics_of
from scing_core.runs.trained import load_run_model
from scing_core.models.prompts import method_title
from scing_core.errors import DatasetError, InputError
from scing_core.evaluation import FeatureSet, evaluate_features, evaluation_amp, extract_features

log = logging.getLogger(__name__)

MODES = ("occlude", "erase")
DEFAULT_FRACTIONS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6)
ERASE_ASPECT = (0.3, 3.3)
MODE_LABELS = {"occlude": "occluder", "erase": "erasing"}


def robustness_curves(run_dirs, fractions: Sequence[float] = DEFAULT_FRACTIONS, modes: Sequence[str] = MODES,
                      checkpoint: str = "selected", device: str = "auto", seed: int = 0, dataset: str | None = None,
                      root=None, progress: bool = False) -> dict:
    """mAP and R1 of each run at each occluded fraction of the queries, per mode.

    Args:
        run_dirs: one run directory or a list of them.
        fractions: occluded shares of each query image, in [0, 1].
        modes: ``occlude`` and/or ``erase`` (module doc).
        checkpoint: ``selected`` | ``best`` | ``last`` | ``stage1`` | a path (``last`` = the model of the run's own eval).
        device: ``auto`` | ``cpu`` | ``cuda[:N]``.
        seed: seed of the occluders / erased rectangles.
        dataset, root: evaluate on this dataset (and folder) instead of the run's first test dataset.
        progress: tqdm bars for the gallery extraction.

    Returns a JSON-ready dict::

        {"fractions": [...], "modes": [...], "seed": 0, "checkpoint": "selected",
         "runs": {label: {"run_dir", "method", "dataset", "checkpoint", "num_query", "num_gallery",
                          "curves": {mode: {"mAP": [...], "R1": [...]}}}}}

    ``label`` is the run folder's name (with its parent's when two runs share a name).
    """
    fractions, modes = _checked_fractions(fractions), _checked_modes(modes)
    paths = [Path(run_dirs)] if isinstance(run_dirs, (str, Path)) else [Path(p) for p in run_dirs]
    if not paths:
        raise InputError("robustness_curves needs at least one run directory")
    labels = run_labels(paths)
    runs = {}
    for label, path in zip(labels, paths):
        log.info("robustness: %s", path)
        runs[label] = _run_curves(path, fractions, modes, checkpoint, device, seed, dataset, root, progress)
    return {"fractions": list(fractions), "modes": list(modes), "seed": int(seed), "checkpoint": checkpoint,
            "runs": runs}


def erase_tensor(images: torch.Tensor, fraction: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """A copy of the normalised batch ``images`` [B, 3, H, W] with one rectangle per image set to 0.

    Each rectangle covers about ``fraction * H * W`` pixels (exact up to rounding and the image
    bounds), with a log-uniform aspect ratio in 0.3-3.3 and a uniform position.
    """
    if images.dim() != 4 or images.shape[1] != 3 or not images.is_floating_point():
        raise InputError(f"erase_tensor expects a float batch [B, 3, H, W], got {tuple(images.shape)} {images.dtype}")
    if not 0.0 <= fraction <= 1.0:
        raise InputError(f"erased fraction must be in [0, 1], got {fraction}")
    out = images.clone()
    height, width = images.shape[-2:]
    area = fraction * height * width
    if area < 1:
        return out
    for b in range(images.shape[0]):
        log_ratio = math.log(ERASE_ASPECT[0]) + torch.rand((), generator=generator).item() * math.log(
            ERASE_ASPECT[1] / ERASE_ASPECT[0])
        aspect = math.exp(log_ratio)  # height / width
        box_h = min(height, max(1, round(math.sqrt(area * aspect))))
        box_w = min(width, max(1, round(area / box_h)))
        box_h = min(height, max(1, round(area / box_w)))  # re-balance after clipping the width
        top = int(torch.randint(height - box_h + 1, (), generator=generator))
        left = int(torch.randint(width - box_w + 1, (), generator=generator))
        out[b] = TF.erase(out[b], top, left, box_h, box_w, torch.zeros(()), inplace=False)
    return out


def perturb_queries(images: torch.Tensor, indices: Sequence[int], mode: str, fraction: float, seed: int,
                    mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5)) -> torch.Tensor:
    """Damage each image of a normalised batch; image ``indices[k]``'s damage depends only on
    ``(seed, mode, fraction, indices[k])``."""
    if mode not in MODES:
        raise InputError(f"unknown mode '{mode}'; use one of {', '.join(MODES)}")
    if fraction == 0.0:
        return images
    out = torch.empty_like(images)
    for k, index in enumerate(indices):
        generator = torch.Generator().manual_seed(mix_seed(seed, MODES.index(mode), round(fraction * 1e6), int(index)))
        one = images[k:k + 1]
        out[k:k + 1] = (occlude_tensor(one, fraction, generator, mean=mean, std=std) if mode == "occlude"
                        else erase_tensor(one, fraction, generator))
    return out


def run_labels(paths: Sequence[Path]) -> list[str]:
    """A short unique label per run: its folder name, or ``parent/name`` when names clash."""
    names = [Path(p).expanduser().resolve().name for p in paths]
    return [f"{Path(p).expanduser().resolve().parent.name}/{name}" if names.count(name) > 1 else name
            for p, name in zip(paths, names)]


def robustness_figure(curves: dict, out_path) -> Path:
    """mAP and R1 (%) against the occluded fraction: one colour per run, one line style per mode.
    Two panels sized for a paper column; writes PNG + PDF and returns the PNG path."""
    runs = curves.get("runs") if isinstance(curves, dict) else None
    if not runs:
        raise InputError("robustness_figure needs the dict returned by robustness_curves (with at least one run)")
    x = 100 * np.asarray(curves["fractions"], dtype=float)
    styles = {"occlude": ("-", "o"), "erase": ("--", "s")}
    with paper_style():
        fig, axes = plt.subplots(1, 2, figsize=(COLUMN_WIDTH_IN, 1.9))
        for ax, metric in zip(axes, ("mAP", "R1")):
            for colour, (label, run) in zip(_cycle(PALETTE), runs.items()):
                for mode in curves["modes"]:
                    line, marker = styles.get(mode, (":", "^"))
                    ax.plot(x, 100 * np.asarray(run["curves"][mode][metric]), ls=line, marker=marker,
                            color=colour, ms=2.5, lw=1.0, mfc="white" if mode == "erase" else colour)
            ax.set_xlabel("occluded query area (%)")
            ax.set_ylabel(f"{'Rank-1' if metric == 'R1' else metric} (%)")
            ax.set_xticks(x if len(x) <= 7 else x[:: math.ceil(len(x) / 7)])
            ax.grid(True, axis="y")
        run_handles = [Line2D([], [], color=c, lw=1.2, label=_run_legend(label, run))
                       for c, (label, run) in zip(_cycle(PALETTE), runs.items())]
        mode_handles = [Line2D([], [], color="#404040", ls=styles.get(m, (":", "^"))[0], ms=2.5, lw=1.0,
                               marker=styles.get(m, (":", "^"))[1], mfc="white" if m == "erase" else "#404040",
                               label=MODE_LABELS.get(m, m)) for m in curves["modes"]]
        axes[1].legend(handles=mode_handles, loc="upper right", fontsize=6, handlelength=2.2, borderaxespad=0.1)
        longest = max(len(h.get_label()) for h in run_handles)
        ncol = min(len(run_handles), 3 if longest <= 16 else 2)
        fig.legend(handles=run_handles, loc="lower center", ncol=ncol, frameon=False, fontsize=6.5,
                   handlelength=1.8, columnspacing=1.2, borderaxespad=0.1)
        legend_rows = math.ceil(len(run_handles) / ncol)
        fig.tight_layout(rect=(0, 0.065 * legend_rows + 0.015, 1, 1), w_pad=1.0)
        return save_figure(fig, out_path)


# -- helpers -------------------------------------------------------------------------------------

def _run_curves(path: Path, fractions, modes, checkpoint, device, seed, dataset, root, progress) -> dict:
    model, cfg, ckpt = load_run_model(path, checkpoint, device)
    dev = next(model.parameters()).device
    label, data = _evaluation_dataset(cfg, dataset, root)
    # precision and cameras as evaluate_model's, so fraction 0 reproduces its numbers
    amp, cameras = evaluation_amp(cfg, dev), training_cameras(cfg, data)
    gallery = extract_features(model, ConfiguredLoaders(cfg).test(data.gallery), device=dev, amp=amp, progress=progress,
                               cameras=cameras)
    variants = [(mode, f) for mode in modes for f in fractions if f > 0.0]
    queries = _perturbed_query_features(model, data.query, cfg, dev, variants, seed, amp, cameras)
    clean = metrics_of(evaluate_features(queries[None], gallery)[1])
    out_curves = {mode: {"mAP": [], "R1": []} for mode in modes}
    for mode in modes:
        for fraction in fractions:
            metrics = clean if fraction == 0.0 else metrics_of(evaluate_features(queries[(mode, fraction)], gallery)[1])
            out_curves[mode]["mAP"].append(metrics["mAP"])
            out_curves[mode]["R1"].append(metrics["R1"])
    return {"run_dir": str(path.expanduser().resolve()), "method": cfg.model.method, "dataset": label,
            "checkpoint": str(ckpt), "num_query": len(queries[None]), "num_gallery": len(gallery), "curves": out_curves}


def _evaluation_dataset(cfg, dataset: str | None, root):
    if dataset:
        return dataset, load_configured_dataset(dataset, root or cfg.data.root, cfg.data)
    if root:
        return cfg.data.dataset, load_configured_dataset(cfg.data.dataset, root, cfg.data)
    try:
        return test_datasets(cfg)[0]
    except DatasetError as error:
        raise DatasetError(f"{error} (pass dataset= / --dataset and root= / --root if the data moved)") from None


@torch.inference_mode()
def _perturbed_query_features(model, samples, cfg, device, variants, seed, amp: bool, cameras: bool = True) -> dict:
    """Query FeatureSets keyed by ``None`` (clean) and by each ``(mode, fraction)``, in one pass over the
    query images (each batch is loaded once and damaged in every way)."""
    mean, std = tuple(cfg.data.mean), tuple(cfg.data.std)
    loader = ConfiguredLoaders(cfg).test(samples)
    chunks = {key: [] for key in [None, *variants]}
    pids, camids, paths = [], [], []
    was_training = model.training
    model.eval()
    autocast = torch.autocast("cuda", dtype=torch.float16) if amp else contextlib.nullcontext()
    try:
        with autocast:
            _describe_queries(model, loader, device, variants, seed, (mean, std), chunks, (pids, camids, paths), cameras)
    finally:
        model.train(was_training)
    if not paths:
        raise DatasetError("no query image could be read; check the dataset folder")
    pid_array, camid_array = np.concatenate(pids), np.concatenate(camids)
    return {key: FeatureSet(torch.cat(parts), pid_array, camid_array, paths) for key, parts in chunks.items()}


def _describe_queries(model, loader, device, variants, seed, normalisation, chunks, labels, cameras: bool) -> None:
    pids, camids, paths = labels
    samples = loader.dataset.samples
    for batch in loader:
        if batch is None:
            continue
        images, batch_pids, batch_camids, indices = batch
        cams = (torch.as_tensor(batch_camids) if cameras else torch.full((len(batch_pids),), -1)).to(device)
        chunks[None].append(model(images.to(device), cams).float().cpu())
        for mode, fraction in variants:
            damaged = perturb_queries(images, indices.tolist(), mode, fraction, seed, *normalisation)
            chunks[(mode, fraction)].append(model(damaged.to(device), cams).float().cpu())
        pids.append(np.asarray(batch_pids))
        camids.append(np.asarray(batch_camids))
        paths += [samples[int(i)].path for i in indices]


def _checked_fractions(fractions) -> tuple[float, ...]:
    try:
        values = tuple(float(f) for f in fractions)
    except (TypeError, ValueError):
        raise InputError(f"fractions: expected numbers in [0, 1], got {fractions!r}") from None
    if not values or any(not 0.0 <= f <= 1.0 for f in values):
        raise InputError(f"fractions: expected one or more numbers in [0, 1], got {list(values)}")
    if len(set(values)) != len(values):
        raise InputError(f"fractions: each value once, please; got {list(values)}")
    return tuple(sorted(values))


def _checked_modes(modes) -> tuple[str, ...]:
    values = (modes,) if isinstance(modes, str) else tuple(modes)
    unknown = [m for m in values if m not in MODES]
    if not values or unknown:
        raise InputError(f"modes: expected some of {', '.join(MODES)}, got {list(values)}")
    return tuple(dict.fromkeys(values))


def _run_legend(label: str, run: dict) -> str:
    method = method_title(run.get("method", ""))
    return method if label == run.get("method") else f"{method} ({label})"


def _cycle(palette):
    while True:
        yield from palette
