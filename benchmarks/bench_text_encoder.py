"""Text encoder speed: running only up to the EOT token vs the full 77-token context.

64 CLIP-ReID prompts ("A photo of a X X X X person.", EOT at position 11) through the ViT-B-16
text tower (random weights: speed does not depend on them), forward + backward to the learnable
tokens, both variants in this process. Prints the speed-up (target >= 5x) and exits 1 below it.

    .venv/bin/python benchmarks/bench_text_encoder.py [--repeats 3] [--device auto] [--arch ViT-B-16]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import torch

from scing_core.config.schema import ModelConfig
from scing_core.models import TextEncoder, create_backbone
from scing_core.models.prompts import create_prompt_learner

TARGET = 5.0
PROMPTS = 64


def time_variant(encoder: TextEncoder, learner, labels: torch.Tensor, truncate: bool, repeats: int) -> float:
    """Median seconds of one forward + backward over the prompts of ``labels``."""
    encoder.truncate = truncate
    eot = learner.eot_indices[labels]
    times = []
    for step in range(repeats + 1):  # the first pass warms up
        learner.zero_grad(set_to_none=True)
        if labels.is_cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        features = encoder(learner(labels), eot)
        features.float().square().mean().backward()
        if labels.is_cuda:
            torch.cuda.synchronize()
        if step:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed passes per variant (default: 3)")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda (default: auto)")
    parser.add_argument("--arch", default="ViT-B-16", help="architecture whose text tower runs (default: ViT-B-16)")
    args = parser.parse_args(argv)
    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available() else
                          ("cpu" if args.device == "auto" else args.device))
    torch.manual_seed(0)
    backbone = create_backbone(args.arch)
    learner = create_prompt_learner("clipreid", ModelConfig(method="clipreid"), PROMPTS, backbone).to(device)
    encoder = TextEncoder(backbone.clip).to(device)
    for param in encoder.parameters():
        param.requires_grad_(False)  # stage 1: gradients flow to the prompt tokens only
    labels = torch.arange(PROMPTS, device=device)
    full = time_variant(encoder, learner, labels, truncate=False, repeats=args.repeats)
    short = time_variant(encoder, learner, labels, truncate=True, repeats=args.repeats)
    ratio = full / short
    eot = int(learner.eot_indices[0])
    print(f"{args.arch} text tower, {PROMPTS} prompts, forward + backward on {device}:")
    print(f"  full context ({encoder.context_length} tokens): {full * 1000:9.1f} ms")
    print(f"  up to EOT    ({eot + 1} tokens): {short * 1000:9.1f} ms")
    print(f"  speed-up: {ratio:.1f}x (target >= {TARGET:.0f}x)")
    return 0 if ratio >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
