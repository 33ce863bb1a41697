"""The image-text modality gap of a trained run (paper Fig. 1): embeddings, numbers and a figure.

For N identities of a run's dataset, each image's projected CLS embedding (``proj``, 512-d for
ViT-B/16) is paired with a text embedding of its identity:

- ``prototype``: the identity's class text prototype from the run's ``prototypes.pt`` (what stage 2
  trains the image encoder against);
- ``conditioned`` (cocoop / scing only): the image's own conditioned text feature,
  ``model.encode_text(label, image_features)`` - the prompt the image itself writes.

``text="auto"`` takes ``conditioned`` for methods whose prompts depend on the image and
``prototype`` otherwise; pass ``text="prototype"`` for a like-for-like comparison across methods.

Identities come from the training split by default (their prototypes exist). ``split="test"`` uses
the query + gallery identities instead (distractors excluded); as they have no prototype of their
own, each test identity is paired with the *nearest-prototype* class: the training identity whose
prototype is closest (cosine) to the identity's mean normalised image embedding. Its prototype (or,
for ``conditioned``, its prompt conditioned on each image) is that identity's text.

Numbers (:func:`gap_metrics`, on L2-normalised embeddings): ``mean_paired_cosine_distance``
(mean of 1 - cos(image_i, text_i)), ``centroid_gap`` (||mean(images) - mean(texts)||) and
``i2t_r1`` (share of images whose nearest text row, by cosine, belongs to their own identity).
The figure projects each run's images and texts *jointly* to 2-D (:func:`project_2d`).
"""

from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from matplotlib.collections import LineCollection
from matplotlib.lines import Line2D

from scing_core.analysis.figure_io import DOUBLE_COLUMN_IN, paper_style, plt, save_figure
from scing_core.analysis.projection import project_pairs_2d
from scing_core.data.loaders import ConfiguredLoaders
from scing_core.data.types import ReIDSample
from scing_core.data.configured import load_configured_dataset
from scing_core.data.val_split import hold_out_validation
from scing_core.runs.trained import load_prototypes, load_run_model
from scing_core.models.prompts import method_title
from scing_core.errors import DatasetError, InputError, RunDirError
from scing_core.models import ImageFeatures

log = logging.getLogger(__name__)

TEXT_KINDS = ("auto", "prototype", "conditioned")
SPLITS = ("train", "test")


@dataclass
class GapResult:
    """Paired embeddings of one run: ``image_emb[i]`` goes with ``text_emb[i]`` (both (n, E), normalised).

    ``image_xy`` / ``text_xy`` are filled by :func:`project_2d` (None before).
    """

    run: str
    method: str
    image_emb: np.ndarray
    text_emb: np.ndarray
    pids: np.ndarray
    text_kind: str
    metrics: dict
    image_xy: np.ndarray | None = None
    text_xy: np.ndarray | None = None
    split: str = "train"
    projection: str | None = None
    paths: list[str] = field(default_factory=list)
    dataset_pids: np.ndarray | None = None   # the dataset's own person ids (``pids`` are training labels in train)

    @property
    def label(self) -> str:
        """The run folder's name (figure titles, JSON keys)."""
        return Path(self.run).name


def gap_metrics(image_emb, text_emb, pids) -> dict:
    """Modality-gap numbers of paired embeddings (rows are L2-normalised here first).

    Returns ``mean_paired_cosine_distance``, ``centroid_gap``, ``i2t_r1`` (see the module doc), and
    ``num_images`` / ``num_ids``.
    """
    images, texts, labels = _checked_pairs(image_emb, text_emb, pids)
    images, texts = _normalise_rows(images, "image_emb"), _normalise_rows(texts, "text_emb")
    paired = np.sum(images * texts, axis=1)
    nearest = np.argmax(images @ texts.T, axis=1)
    return {
        "mean_paired_cosine_distance": float(np.mean(1.0 - paired)),
        "centroid_gap": float(np.linalg.norm(images.mean(axis=0) - texts.mean(axis=0))),
        "i2t_r1": float(np.mean(labels[nearest] == labels)),
        "num_images": int(len(labels)),
        "num_ids": int(len(np.unique(labels))),
    }


def collect_gap_embeddings(run_dir, ids: int = 30, text: str = "auto", checkpoint: str = "selected",
                           device: str = "auto", seed: int = 0, *, split: str = "train",
                           images_per_id: int | None = 8, root=None) -> GapResult:
    """Image and paired text embeddings of ``ids`` identities of a run (no projection yet).

    Args:
        run_dir: a run directory with checkpoints and ``prototypes.pt``.
        ids: identities drawn (seeded) from the split; all of them when the split has fewer.
        text: ``auto`` | ``prototype`` | ``conditioned`` (see the module doc).
        checkpoint: ``selected`` | ``best`` | ``last`` | ``stage1`` | a path.
        device: ``auto`` | ``cpu`` | ``cuda[:N]``.
        seed: which identities and images are drawn.
        split: ``train`` (default) or ``test`` (nearest-prototype pairing).
        images_per_id: at most this many images per identity (seeded draw); None = all.
        root: the dataset folder, when it moved since training (default: the run's ``data.root``).
    """
    if isinstance(ids, bool) or not isinstance(ids, (int, np.integer)) or ids < 1:
        raise InputError(f"ids: expected a positive number of identities, got {ids!r}")
    if images_per_id is not None and (not isinstance(images_per_id, (int, np.integer)) or images_per_id < 1):
        raise InputError(f"images_per_id: expected a positive integer or None, got {images_per_id!r}")
    if split not in SPLITS:
        raise InputError(f"split: expected one of {', '.join(SPLITS)}, got '{split}'")
    model, cfg, _ = load_run_model(run_dir, checkpoint, device)
    kind = resolve_text_kind(text, model)
    prototypes = _run_prototypes(run_dir, model.num_classes)
    dataset = _run_dataset(cfg, root)
    samples = select_samples(dataset, split, ids, images_per_id, seed)
    dev = next(model.parameters()).device
    with torch.inference_mode():
        features = _image_features(model, samples, cfg, dev)
        images = torch.nn.functional.normalize(features.proj.float(), dim=-1)
        classes = _text_classes(samples, split, images, prototypes, model.num_classes)
        if kind == "prototype":
            texts = prototypes[classes]
        else:
            texts = _conditioned_texts(model, classes, features, dev, cfg.data.test_batch_size)
    pids = np.array([s.pid for s in samples], dtype=np.int64)
    image_np, text_np = images.cpu().numpy(), texts.cpu().numpy()
    return GapResult(run=str(Path(run_dir).expanduser().resolve()), method=cfg.model.method,
                     image_emb=image_np, text_emb=text_np, pids=pids, text_kind=kind,
                     metrics=gap_metrics(image_np, text_np, pids), split=split, paths=[s.path for s in samples],
                     dataset_pids=np.array([dataset.dataset_pid("train" if split == "train" else "query", s.pid)
                                            for s in samples], dtype=np.int64))


def resolve_text_kind(text: str, model) -> str:
    """``auto`` -> ``conditioned`` for image-conditioned prompts, else ``prototype``; checks the choice."""
    if text not in TEXT_KINDS:
        raise InputError(f"text: expected one of {', '.join(TEXT_KINDS)}, got '{text}'")
    if text == "auto":
        return "conditioned" if model.uses_condition else "prototype"
    if text == "conditioned" and not model.uses_condition:
        raise InputError(f"method '{model.method}' does not condition its prompts on the image, so it has no "
                         "conditioned text feature; use text='prototype' (or 'auto')")
    return text


def select_samples(dataset, split: str, ids: int, images_per_id: int | None, seed: int) -> list[ReIDSample]:
    """A seeded draw of ``ids`` identities (and up to ``images_per_id`` images each) from ``split``.

    ``test`` pools query and gallery and leaves out distractors (pid <= 0). Order: by pid, then path.
    """
    pool = list(dataset.train) if split == "train" else [s for s in (*dataset.query, *dataset.gallery) if s.pid > 0]
    by_pid: dict[int, list[ReIDSample]] = {}
    for sample in sorted(pool, key=lambda s: (s.pid, s.path)):
        by_pid.setdefault(sample.pid, []).append(sample)
    if not by_pid:
        raise DatasetError(f"dataset '{dataset.name}' has no identities in its {split} split")
    if ids > len(by_pid):
        log.warning("asked for %d identities but the %s split has %d; using all", ids, split, len(by_pid))
    rng = np.random.default_rng(seed)
    chosen = sorted(rng.choice(sorted(by_pid), size=min(ids, len(by_pid)), replace=False).tolist())
    out = []
    for pid in chosen:
        images = by_pid[pid]
        if images_per_id is not None and len(images) > images_per_id:
            images = [images[i] for i in sorted(rng.choice(len(images), size=images_per_id, replace=False))]
        out += images
    return out


def project_2d(results: GapResult | Sequence[GapResult], method: str = "umap", seed: int = 0) -> list[GapResult]:
    """Copies of ``results`` with ``image_xy`` / ``text_xy`` from one JOINT 2-D projection per run.

    Images and texts of a run are projected together (UMAP with the cosine metric, PCA or t-SNE) on their
    L2-normalised embeddings; repeated text rows (a prototype shared by an identity's images) are
    projected once, so they land on one point.
    """
    items = [results] if isinstance(results, GapResult) else list(results)
    out = []
    for result in items:
        images = _normalise_rows(np.asarray(result.image_emb, dtype=np.float64), "image_emb")
        texts = _normalise_rows(np.asarray(result.text_emb, dtype=np.float64), "text_emb")
        image_xy, text_xy = project_pairs_2d(images, texts, method=method, seed=seed)
        out.append(dataclasses.replace(result, image_xy=image_xy, text_xy=text_xy, projection=method))
    return out


def gap_figure(results: GapResult | Sequence[GapResult], out_path) -> Path:
    """Side-by-side panels, one per run: image points red, text points blue, a grey line per pair,
    the gap numbers in each title. Writes PNG + PDF (returns the PNG path)."""
    items = [results] if isinstance(results, GapResult) else list(results)
    if not items:
        raise InputError("gap_figure needs at least one GapResult")
    missing = [r.label for r in items if r.image_xy is None or r.text_xy is None]
    if missing:
        raise InputError(f"runs {', '.join(missing)} have no 2-D coordinates yet; call project_2d(results) first")
    columns = min(len(items), 3)
    rows = math.ceil(len(items) / columns)
    with paper_style():
        width = DOUBLE_COLUMN_IN if len(items) > 1 else DOUBLE_COLUMN_IN / 2
        fig, axes = plt.subplots(rows, columns, figsize=(width, rows * width / columns * 1.08), squeeze=False)
        for ax, result in zip(axes.flat, items):
            _draw_gap_panel(ax, result)
        for ax in list(axes.flat)[len(items):]:
            ax.set_visible(False)
        _gap_legend(fig)
        fig.tight_layout(rect=(0, 0.06 / rows, 1, 1), w_pad=0.8)
        return save_figure(fig, out_path)


IMAGE_COLOUR, TEXT_COLOUR, PAIR_COLOUR = "#D62728", "#1F4E9C", "#9A9A9A"


def _draw_gap_panel(ax, result: GapResult) -> None:
    image_xy, text_xy = np.asarray(result.image_xy), np.asarray(result.text_xy)
    pairs = np.stack([image_xy, text_xy], axis=1)
    ax.add_collection(LineCollection(pairs, colors=PAIR_COLOUR, linewidths=0.35, alpha=0.55, zorder=1))
    unique_text = np.unique(text_xy, axis=0)
    ax.scatter(image_xy[:, 0], image_xy[:, 1], s=5, c=IMAGE_COLOUR, linewidths=0, zorder=2)
    ax.scatter(unique_text[:, 0], unique_text[:, 1], s=9 if len(unique_text) < len(text_xy) else 5,
               c=TEXT_COLOUR, linewidths=0, zorder=3)
    ax.autoscale_view()
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(True)
        spine.set_color("#B0B0B0")
    m = result.metrics
    name = method_title(result.method)
    name = name if result.label == result.method else f"{name} ({result.label})"
    ax.set_title(f"{name} · {result.text_kind} text\n"
                 f"centroid gap {m['centroid_gap']:.2f} · 1−cos {m['mean_paired_cosine_distance']:.2f} · "
                 f"R@1 {100 * m['i2t_r1']:.0f}%", fontsize=7, linespacing=1.3)
    if result.projection:
        ax.set_xlabel(f"{result.projection.upper()} 1", fontsize=6, labelpad=1, color="#606060")
        ax.set_ylabel(f"{result.projection.upper()} 2", fontsize=6, labelpad=1, color="#606060")


def _gap_legend(fig) -> None:
    handles = [Line2D([], [], ls="", marker="o", ms=3.5, color=IMAGE_COLOUR, label="image embedding"),
               Line2D([], [], ls="", marker="o", ms=3.5, color=TEXT_COLOUR, label="text embedding"),
               Line2D([], [], color=PAIR_COLOUR, lw=0.8, label="pair")]
    fig.legend(handles=handles, loc="lower center", ncol=3, frameon=False, fontsize=7, handletextpad=0.3,
               borderaxespad=0.1)


# -- helpers -------------------------------------------------------------------------------------

def _run_dataset(cfg, root):
    """The run's training dataset as it trained on it: with ``model_selection: val`` its held-out
    identities removed and the rest relabelled (the labels the model's prototypes are indexed by)."""
    try:
        dataset = load_configured_dataset(cfg.data.dataset, root or cfg.data.root, cfg.data)
    except DatasetError as error:
        raise DatasetError(f"{error} (the run was trained on '{cfg.data.dataset}' at '{cfg.data.root}'; "
                           "pass root= / --data-root if the data moved)") from None
    if cfg.model_selection == "val":
        dataset, _ = hold_out_validation(dataset, cfg.data.val_ids, min_train_ids=cfg.data.ids_per_batch)
    return dataset


def _run_prototypes(run_dir, num_classes: int) -> torch.Tensor:
    try:
        prototypes = load_prototypes(run_dir)
    except FileNotFoundError:
        raise RunDirError(f"run '{run_dir}' has no prototypes.pt (stage 1 did not finish); train it further "
                          "with `scing train --run-dir ... --resume`") from None
    if prototypes.ndim != 2 or prototypes.shape[0] != num_classes:
        raise RunDirError(f"{run_dir}/prototypes.pt has shape {tuple(prototypes.shape)} but the model has "
                          f"{num_classes} classes; the run directory is inconsistent")
    return torch.nn.functional.normalize(prototypes.float().cpu(), dim=-1)


def _image_features(model, samples: list[ReIDSample], cfg, device) -> ImageFeatures:
    """ImageFeatures of ``samples`` in order (CPU, float32)."""
    pre, proj, order = [], [], []
    for batch in ConfiguredLoaders(cfg).test(samples):
        if batch is None:
            continue
        images, _, camids, indices = batch
        features = model.encode_image(images.to(device), torch.as_tensor(camids).to(device))
        pre.append(features.pre_proj.float().cpu())
        proj.append(features.proj.float().cpu())
        order += [int(i) for i in indices]
    if len(order) != len(samples):
        unreadable = sorted(set(range(len(samples))) - set(order))
        raise DatasetError(f"{len(unreadable)} image(s) could not be read, e.g. {samples[unreadable[0]].path}; "
                           "check the dataset folder")
    return ImageFeatures(torch.cat(pre), torch.cat(proj))


def _text_classes(samples, split: str, images: torch.Tensor, prototypes: torch.Tensor, num_classes: int) -> torch.Tensor:
    """The class index whose text pairs with each image (its own pid, or the nearest prototype's)."""
    pids = torch.tensor([s.pid for s in samples], dtype=torch.long)
    if split == "train":
        if int(pids.max()) >= num_classes:
            raise RunDirError(f"training pid {int(pids.max())} is out of range for a model of {num_classes} "
                              "classes; the dataset changed since the run was trained")
        return pids
    classes = torch.empty_like(pids)
    for pid in pids.unique():
        rows = pids == pid
        centre = torch.nn.functional.normalize(images[rows].mean(dim=0), dim=-1)
        classes[rows] = int(torch.argmax(prototypes @ centre))
    return classes


def _conditioned_texts(model, classes: torch.Tensor, features: ImageFeatures, device, batch_size: int) -> torch.Tensor:
    out = []
    step = max(1, int(batch_size))
    for start in range(0, len(classes), step):
        part = slice(start, start + step)
        cond = ImageFeatures(features.pre_proj[part].to(device), features.proj[part].to(device))
        text = model.encode_text(classes[part].to(device), cond).float()
        out.append(torch.nn.functional.normalize(text, dim=-1).cpu())
    return torch.cat(out)


def _checked_pairs(image_emb, text_emb, pids) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    images = np.asarray(image_emb, dtype=np.float64)
    texts = np.asarray(text_emb, dtype=np.float64)
    labels = np.asarray(pids).reshape(-1)
    if images.ndim != 2 or texts.shape != images.shape or len(images) == 0:
        raise InputError(f"image_emb and text_emb must be paired (n, d) arrays of the same shape with n >= 1, got "
                         f"{images.shape} and {texts.shape}")
    if len(labels) != len(images):
        raise InputError(f"pids has {len(labels)} entries for {len(images)} embedding pairs")
    if not (np.isfinite(images).all() and np.isfinite(texts).all()):
        raise InputError("embeddings contain NaN or infinite values")
    return images, texts, labels


def _normalise_rows(array: np.ndarray, name: str) -> np.ndarray:
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    if np.any(norms == 0) or not math.isfinite(float(norms.sum())):
        raise InputError(f"{name} has an all-zero (or non-finite) row; it has no direction to compare")
    return array / norms
