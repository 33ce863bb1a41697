"""SynthCLIP: pre-train the small ``synthclip-s`` CLIP on SynthPed captions, then check what it learnt.

``train_synthclip(out_path)`` does it all in about two minutes on a 2-core CPU (``quick=True``: about
20 seconds):

1. a SynthPed of people disjoint from the demo's (:mod:`scing_core.pretrain.captions`) in
   ``data_dir`` (default: ``<out_path's folder>/cache/synthclip-synthped``), reused when complete;
2. contrastive training on its training split, one caption per image
   (:mod:`scing_core.pretrain.training`);
3. :func:`evaluate_synthclip` on its held-out identities (query + gallery): zero-shot R@k both ways
   against chance, attribute probing against base rates (:mod:`scing_core.pretrain.probing`);
4. ``out_path``: ``{"state_dict", "arch", "image_size", "activation", "metrics", "config"}``, written atomically,
   loadable with ``torch.load(weights_only=True)`` and as ``model.pretrained`` of a ReID config;
   ``out_path + ".json"``: the metrics alone.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import open_clip
import torch

from scing_core.atomic import write_json_atomic
from scing_core.errors import InputError
from scing_core.pretrain.captions import (HELD_OUT_SPLITS, IMAGE_SIZE, TRAIN_SPLITS, load_images,
                                          prepare_pretraining_data, read_caption_records, read_meta)
from scing_core.pretrain.model import (ARCH, MEAN, STD, create_synthclip_model, embed_images, embed_texts,
                                       load_checkpoint, save_checkpoint)
from scing_core.pretrain.probing import ATTRIBUTE_PROBES, probe_attributes, retrieval_metrics
from scing_core.pretrain.training import TrainingRecipe, train_contrastive

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]  # (done, total, detail): one scale for the whole job


@dataclass(frozen=True)
class SynthClipPlan:
    """Data and training sizes of one pre-training run."""

    ids: int              # SynthPed identities: half train, half held out
    images_per_id: int
    recipe: TrainingRecipe
    probe_k: int = 10     # precision@k of the attribute probes


FULL_PLAN = SynthClipPlan(ids=800, images_per_id=3, recipe=TrainingRecipe(epochs=14))
# quick: fewer, smaller steps (a batch of 16 learns more per second early on) and full captions only
QUICK_PLAN = SynthClipPlan(ids=400, images_per_id=2,
                           recipe=TrainingRecipe(epochs=6, batch_size=16, partial_caption_p=0.0))

# rough costs on a 2-core CPU, only to weigh the phases of one progress scale
GENERATE_SECONDS_PER_IMAGE = 1 / 150
TRAIN_SECONDS_PER_SAMPLE = 1 / 150
EVAL_SECONDS_PER_IMAGE = 1 / 800


def make_plan(quick: bool = False, epochs: int | None = None, ids: int | None = None) -> SynthClipPlan:
    """The full or quick plan with ``epochs`` / ``ids`` overridden when given (checked)."""
    plan = QUICK_PLAN if quick else FULL_PLAN
    if epochs is not None:
        if int(epochs) != epochs or epochs < 1:
            raise InputError(f"epochs={epochs}: use a whole number >= 1")
        plan = dataclasses.replace(plan, recipe=dataclasses.replace(plan.recipe, epochs=int(epochs)))
    if ids is not None:
        if int(ids) != ids or not 8 <= ids <= 4998:
            raise InputError(f"ids={ids}: use 8 to 4998 identities (half train, half held out)")
        plan = dataclasses.replace(plan, ids=int(ids))
    return plan


class _JobProgress:
    """Maps the phases (data, training, evaluation) onto one ``progress(done, total, detail)`` scale."""

    def __init__(self, progress: Progress | None, weights: dict[str, float]) -> None:
        self.progress, self.total = progress, max(1, round(100 * sum(weights.values())))
        self.start, self.weights, self.offset = {}, weights, 0.0
        for name, seconds in weights.items():
            self.start[name], self.offset = self.offset, self.offset + seconds

    def __call__(self, phase: str, fraction: float, detail: str) -> None:
        if self.progress is not None:
            done = round(100 * (self.start[phase] + min(max(fraction, 0.0), 1.0) * self.weights[phase]))
            self.progress(min(done, self.total), self.total, detail)


def _default_data_dir(out: Path) -> Path:
    return out.parent / "cache" / "synthclip-synthped"


def _check_out_path(out_path) -> Path:
    out = Path(out_path).expanduser()
    if out.is_dir():
        raise InputError(f"--out '{out}' is a folder; give the checkpoint file to write, e.g. {out / 'synthclip-s.pt'}")
    if out.suffix not in (".pt", ".pth"):
        raise InputError(f"--out '{out}' should end in .pt (a PyTorch checkpoint), e.g. {out.with_suffix('.pt')}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--out '{out}': cannot create its folder ({exc.strerror}); choose a writable place") from exc
    return out


def train_synthclip(out_path, *, epochs: int | None = None, ids: int | None = None, seed: int = 0, data_dir=None,
                    quick: bool = False, progress: Progress | None = None) -> dict:
    """Pre-train SynthCLIP into ``out_path`` (see the module doc) and return its metrics.

    ``epochs`` / ``ids`` override the plan (full: 800 ids x 3 images, 14 epochs; ``quick``: 400 x 2,
    6 epochs); ``seed`` fixes the data and the training; ``progress(done, total, detail)`` is called
    along one scale covering data generation, training and evaluation.
    """
    if int(seed) != seed or seed < 0:
        raise InputError(f"seed={seed}: use a whole number >= 0")
    plan = make_plan(quick, epochs, ids)
    out = _check_out_path(out_path)
    folder = Path(data_dir).expanduser() if data_dir is not None else _default_data_dir(out)
    started = time.perf_counter()
    images_total = plan.ids * plan.images_per_id
    train_samples = plan.recipe.epochs * (images_total // 2)
    job = _JobProgress(progress, {"data": images_total * GENERATE_SECONDS_PER_IMAGE,
                                  "train": train_samples * TRAIN_SECONDS_PER_SAMPLE,
                                  "eval": images_total / 2 * EVAL_SECONDS_PER_IMAGE})

    prepare_pretraining_data(folder, plan.ids, plan.images_per_id, int(seed),
                             progress=lambda done, total: job("data", done / total, f"data {done}/{total} images"))
    records = read_caption_records(folder, TRAIN_SPLITS)
    images = load_images(records)
    job("data", 1.0, f"data: {len(records)} training images of {len({r.pid for r in records})} people")

    torch.manual_seed(int(seed))
    model = create_synthclip_model()
    history = train_contrastive(model, images, records, plan.recipe, seed=int(seed),
                                on_step=lambda done, total, detail: job("train", done / total, detail))
    job("eval", 0.0, "evaluating on held-out people")
    metrics = evaluate_synthclip(model, folder, k=plan.probe_k)
    metrics["training"] = {"quick": bool(quick), "seed": int(seed), "ids": len({r.pid for r in records}),
                           "images": len(records), "epochs": history["epochs"], "steps": history["steps"],
                           "batch_size": history["batch_size"], "final_loss": round(history["final_loss"], 4),
                           "train_seconds": round(history["seconds"], 1),
                           "total_seconds": round(time.perf_counter() - started, 1)}
    config = _run_config(plan, int(seed), folder, records, history)
    save_checkpoint(out, model, arch=ARCH, image_size=IMAGE_SIZE, metrics=metrics, config=config)
    _write_json(Path(f"{out}.json"), metrics)
    job("eval", 1.0, f"saved {out}")
    log.info("SynthCLIP written to %s in %.0f s", out, time.perf_counter() - started)
    return metrics


def _run_config(plan: SynthClipPlan, seed: int, folder: Path, records, history: dict) -> dict:
    meta = read_meta(folder)
    return {"arch": ARCH, "image_size": list(IMAGE_SIZE), "mean": list(MEAN), "std": list(STD), "seed": seed,
            "plan": {"ids": plan.ids, "images_per_id": plan.images_per_id, "probe_k": plan.probe_k},
            "recipe": dataclasses.asdict(plan.recipe), "epoch_loss": [round(v, 4) for v in history["epoch_loss"]],
            "data": {"dir": str(folder), "parameters": meta["parameters"],
                     "train_pids": sorted({r.pid for r in records})}}


def _write_json(path: Path, data: dict) -> None:
    write_json_atomic(path, data)


# ----------------------------------------------------------------------------------------- evaluation

def _as_model(checkpoint_or_model) -> tuple[open_clip.CLIP, dict]:
    if isinstance(checkpoint_or_model, (str, os.PathLike)):
        return load_checkpoint(checkpoint_or_model)
    model = getattr(checkpoint_or_model, "clip", checkpoint_or_model)  # a ClipBackbone holds its CLIP as .clip
    if not isinstance(model, open_clip.CLIP):
        raise InputError(f"expected a checkpoint path or an open_clip CLIP model, got {type(checkpoint_or_model).__name__}")
    return model, {}


def _check_held_out(extras: dict, data_dir, records) -> None:
    trained = (extras.get("config") or {}).get("data") or {}
    if not trained.get("train_pids"):
        return
    params = read_meta(data_dir).get("parameters", {})
    seen = set(trained["train_pids"]) & {r.pid for r in records}
    same_people = params.get("identity_seed") == trained.get("parameters", {}).get("identity_seed")
    if same_people and seen:
        raise InputError(f"'{data_dir}' shows {len(seen)} people SynthCLIP was trained on (e.g. pid {min(seen)}); "
                         "evaluate on its held-out splits (query, gallery) or on another SynthPed")


def evaluate_synthclip(checkpoint_or_model, data_dir, *, splits=HELD_OUT_SPLITS, k: int = 10,
                       max_images: int | None = None, probes=ATTRIBUTE_PROBES) -> dict:
    """Zero-shot retrieval and attribute probing of a SynthCLIP on the ``splits`` images of a SynthPed.

    ``checkpoint_or_model``: a checkpoint path, an open_clip CLIP or a ClipBackbone. With a checkpoint
    that records its training people, images of those people are refused (InputError). ``max_images``
    keeps an evenly spaced subset. Returns ``{"held_out": {...}, "zero_shot": {...}, "attributes": {...}}``.
    """
    model, extras = _as_model(checkpoint_or_model)
    splits = (splits,) if isinstance(splits, str) else tuple(splits)
    records = read_caption_records(data_dir, splits)
    if max_images is not None and 0 < max_images < len(records):
        step = len(records) / max_images
        records = [records[int(i * step)] for i in range(max_images)]
    _check_held_out(extras, data_dir, records)
    size = tuple(model.visual.image_size)  # (H, W): open_clip and ClipBackbone both store it as a pair
    was_training = model.training
    try:
        image_features = embed_images(model, load_images(records, size))
        captions = sorted({r.caption for r in records})
        index = {c: i for i, c in enumerate(captions)}
        zero_shot = retrieval_metrics(image_features, embed_texts(model, captions),
                                      torch.tensor([index[r.caption] for r in records]))
        attributes = probe_attributes(image_features, lambda texts: embed_texts(model, texts),
                                      [r.attributes for r in records], probes, k,
                                      float(model.logit_scale.detach().exp()))
    finally:
        model.train(was_training)
    held_out = {"images": zero_shot.pop("images"), "captions": zero_shot.pop("captions"),
                "ids": len({r.pid for r in records}), "splits": "+".join(splits)}
    return _rounded({"held_out": held_out, "zero_shot": zero_shot, "attributes": attributes})


def _rounded(value, digits: int = 4):
    """Floats rounded for the JSON a person reads (fractions: 4 decimals = 0.01 %)."""
    if isinstance(value, float):
        return round(value, digits)
    if isinstance(value, dict):
        return {k: _rounded(v, digits) for k, v in value.items()}
    return value
