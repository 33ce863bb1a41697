"""Stage 1 on cached image features vs re-encoding the images every step (same process).

SCING's stage 1 trains only the prompt learner (+ SVIP); the image encoder is frozen, so each training
image is encoded once (original view) and PDCA's perturbed views once per bank refresh
(perturb.refresh_every epochs), and the steps reuse the features. The baseline step re-encodes the
batch's original and two perturbed views (what PDCA needs) before the same prompt update. Target: >= 5x.

    .venv/bin/python benchmarks/bench_stage1.py [--arch ViT-B-16] [--batch 64] [--steps 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time

import torch

from scing_core.config import resolve_config
from scing_core.data import ReIDDataset
from scing_core.engine.context import TrainContext
from scing_core.runs.events import EventWriter
from scing_core.engine.feature_cache import FeatureCache, ViewBank
from scing_core.runs.layout import RunDir
from scing_core.engine.stage1 import PromptStage
from scing_core.models import build_model


def random_cache(model, num_classes: int, per_id: int, views: int, image_size) -> tuple[FeatureCache, ViewBank]:
    """Random original-view features and a random bank of perturbed views (ViT: final-map CLS tokens)."""
    with torch.inference_mode():
        f = model.encode_image(torch.randn(2, 3, *image_size))
    n, d, e = num_classes * per_id, f.pre_proj.shape[1], f.proj.shape[1]
    labels = torch.arange(num_classes).repeat_interleave(per_id)
    cache = FeatureCache(torch.randn(n, d), torch.randn(n, e), labels, torch.zeros(n, dtype=torch.long))
    return cache, ViewBank(0, torch.randn(n, views, d), None, None)


def timed(fn, steps: int) -> float:
    fn()  # warm-up
    start = time.perf_counter()
    for _ in range(steps):
        fn()
    return (time.perf_counter() - start) / steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", default="ViT-B-16")
    ap.add_argument("--method", default="scing")
    ap.add_argument("--num-classes", type=int, default=751)
    ap.add_argument("--steps", type=int, default=3)
    args = ap.parse_args()
    cfg = resolve_config(f"market1501/{args.method}", ["model.pretrained=", f"model.arch={args.arch}", "model.sie=false", "device=cpu"])
    torch.manual_seed(0)
    model = build_model(cfg, args.num_classes, 6)
    size = cfg.data.image_size
    cache, bank = random_cache(model, args.num_classes, 4, cfg.perturb.views_per_image, size)
    with tempfile.TemporaryDirectory() as tmp:
        run = RunDir.at(tmp)
        ctx = TrainContext(cfg, run, model, ReIDDataset("bench", tmp, [], [], [], 6), torch.device("cpu"),
                           EventWriter(run.events, enabled=False), pdca=True)
        stage = PromptStage.from_context(ctx, cache=cache)
        stage.pdca.bank = bank  # epoch 0's bank: epoch_batches(0) keeps it instead of encoding one
        batch = stage.epoch_batches(0)[0]
        images = torch.randn(len(batch), 3, *size)

        def cached_step():
            stage.run_step(batch)

        def reencoding_step():
            with torch.inference_mode():
                for _ in range(3):  # original view + the two perturbed views PDCA compares
                    model.encode_image(images)
            stage.run_step(batch)

        t_cached = timed(cached_step, args.steps)
        t_encode = timed(reencoding_step, args.steps)
    print(f"{args.arch} {args.method}, batch {len(batch)} ({cfg.data.ids_per_batch} ids x {cfg.data.instances_per_id}), "
          f"{size[0]}x{size[1]}, {torch.get_num_threads()} threads")
    print(f"step on cached features : {t_cached * 1000:8.1f} ms")
    print(f"step re-encoding images : {t_encode * 1000:8.1f} ms")
    print(f"speed-up: {t_encode / t_cached:.1f}x (target >= 5x)")


if __name__ == "__main__":
    main()
