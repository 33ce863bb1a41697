"""Seconds per image of Grad-CAM saliency for ViT-B/16 at 256x128 on CPU (target: <= 1 s after warm-up).

    .venv/bin/python benchmarks/bench_gradcam.py [--images 16] [--method gradcam] [--stride 16]
                                                 [--batch-size 8] [--repeats 2] [--device cpu]

The model is a randomly initialised ViT-B-16 ReID model (``create_reid_model`` with ``pretrained=""``;
speed does not depend on the weights). The images are random pictures written as Market-style
files to a temporary folder, so the measured path is the real one: ``compute_saliency`` loads and
transforms each file, builds the prototype target, runs pytorch-grad-cam in batches with the
parameters frozen and the backward pass starting at the hooked layer (the last ViT block), and
de-normalises the image: (1).

Compared, in the same process on the same images and targets: (2) the same batches with the
backward pass running to the input, pytorch-grad-cam's own way; (3) the naive use of the library —
one image per call, every parameter requiring gradients as a freshly trained model leaves them, so
the backward pass runs through the whole network and computes every weight gradient. Ratios are
against (1). CPU time (all threads) is printed next to the wall time: on a shared machine the wall
time measures the neighbours too. Each variant runs after a warm-up call on two images; the best
of ``--repeats`` timings is kept.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scing_core.analysis.saliency import EmbeddingOutput, cam_session, compute_saliency, run_cam  # noqa: E402
from scing_core.analysis.saliency_images import load_input  # noqa: E402
from scing_core.analysis.saliency_targets import PrototypeSimilarity  # noqa: E402
from scing_core.config.schema import DataConfig, ModelConfig, TrainConfig  # noqa: E402
from scing_core.models import build_model  # noqa: E402

TARGET_SECONDS_PER_IMAGE = 1.0


def write_images(folder: Path, count: int, size: tuple[int, int], seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(count):
        pixels = rng.integers(0, 256, size=(size[0], size[1], 3), dtype=np.uint8)
        path = folder / f"{i + 1:04d}_c1s1_{i:06d}_00.png"
        Image.fromarray(pixels).save(path)
        paths.append(str(path))
    return paths


def build(stride: int, device: str, classes: int = 751):
    cfg = TrainConfig(model=dataclasses.replace(ModelConfig(), arch="ViT-B-16", pretrained="", stride=stride),
                      data=dataclasses.replace(DataConfig(), image_size=(256, 128), root="/nonexistent"))
    torch.manual_seed(0)
    model = build_model(cfg, classes, 6).to(device).eval()
    prototypes = torch.nn.functional.normalize(torch.randn(classes, model.backbone.embed_dim), dim=1)
    return model, cfg, prototypes


def batched(bundle, paths, method: str, batch_size: int) -> None:
    compute_saliency(None, paths, target="prototype", method=method, model_bundle=bundle, batch_size=batch_size)


def full_backward(bundle, paths, method: str, batch_size: int, weight_grads: bool) -> None:
    """pytorch-grad-cam's own way: the backward pass runs to the input (and to every weight that
    requires gradients)."""
    model, cfg, prototypes = bundle
    device = next(model.parameters()).device
    for param in model.parameters():
        param.requires_grad_(weight_grads)
    backbone = model.backbone
    for start in range(0, len(paths), batch_size):
        images = torch.stack([load_input(p, cfg.data) for p in paths[start:start + batch_size]]).to(device)
        targets = [PrototypeSimilarity(prototypes.to(device), None) for _ in range(len(images))]
        wrapper = EmbeddingOutput(model, "proj")
        with cam_session(method, wrapper, backbone.cam_target_layer, backbone.reshape_tokens, short_backward=False) as cam:
            run_cam(cam, images, targets)
        model.zero_grad(set_to_none=True)
    for param in model.parameters():
        param.requires_grad_(False)


def best_seconds(function, repeats: int) -> tuple[float, float]:
    """Best wall time and the process CPU time (all threads) of that run."""
    best, best_cpu = float("inf"), float("inf")
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        function()
        wall, cpu = time.perf_counter() - start, time.process_time() - start_cpu
        if wall < best:
            best, best_cpu = wall, cpu
    return best, best_cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=16)
    parser.add_argument("--method", default="gradcam")
    parser.add_argument("--stride", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # the missing training set is expected here
    bundle = build(args.stride, args.device)
    print(f"ViT-B-16 at 256x128, stride {args.stride} (grid {bundle[0].backbone.grid}), {args.method}, "
          f"{args.images} images, device {args.device}, torch threads {torch.get_num_threads()}")
    with tempfile.TemporaryDirectory() as folder:
        paths = write_images(Path(folder), args.images, (128, 64))
        variants = {
            f"compute_saliency (batch {args.batch_size}, backward from the hooked layer)":
                lambda some: batched(bundle, some, args.method, args.batch_size),
            f"batch {args.batch_size}, frozen weights, backward to the input":
                lambda some: full_backward(bundle, some, args.method, args.batch_size, weight_grads=False),
            "naive: one image per call, backward to the input and every weight":
                lambda some: full_backward(bundle, some, args.method, 1, weight_grads=True),
        }
        timings = {}
        for name, function in variants.items():
            function(paths[:2])  # warm-up
            wall, cpu = best_seconds(lambda: function(paths), args.repeats)
            timings[name] = (wall / len(paths), cpu / len(paths))
    threads = torch.get_num_threads()
    fast_wall, fast_cpu = next(iter(timings.values()))
    for name, (wall, cpu) in timings.items():
        print(f"{name:<72} {wall:6.3f} s/image wall  {cpu:6.3f} CPU-s/image  "
              f"ratio {wall / fast_wall:5.2f}x wall, {cpu / fast_cpu:5.2f}x CPU")
    print(f"target: <= {TARGET_SECONDS_PER_IMAGE:.1f} s/image -> {'met' if fast_wall <= TARGET_SECONDS_PER_IMAGE else 'NOT met'} "
          f"by the wall time; CPU time / {threads} threads = {fast_cpu / threads:.3f} s/image, what an otherwise idle "
          f"{threads}-core machine would take. Load average during the run: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
