"""``scing extract``: embed any folder (or glob) of person crops with a checkpoint -> .npz.

The .npz holds ``features`` [N, F] (float32, L2-normalised), ``paths`` [N] and the checkpoint path.
"""

from __future__ import annotations

import argparse
import glob
import os
from pathlib import Path

import numpy as np
import torch

from scing_core.atomic import atomic_open
from scing_core.cli import setup_logging
from scing_core.data.datasets.market_layout import IMAGE_EXTENSIONS
from scing_core.data.loaders import build_test_loader
from scing_core.data.types import ReIDSample
from scing_core.engine.checkpoint import load_checkpoint
from scing_core.engine.context import resolve_device
from scing_core.engine.loading import model_from_checkpoint
from scing_core.errors import InputError
from scing_core.evaluation import extract_features


def collect_images(spec: str) -> list[str]:
    """Image files of a folder (recursively) or matching a glob, sorted."""
    path = Path(spec).expanduser()
    if path.is_dir():
        files = [str(p) for p in path.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS]
    else:
        files = [f for f in glob.glob(os.path.expanduser(spec), recursive=True) if Path(f).suffix.lower() in IMAGE_EXTENSIONS]
    if not files:
        raise InputError(f"no images found at '{spec}' (looked for {', '.join(IMAGE_EXTENSIONS)}); pass a folder or a glob like 'crops/*.jpg'")
    return sorted(files)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="scing extract", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", required=True, help="a checkpoint written by `scing train` (e.g. RUN/checkpoints/best.pt)")
    p.add_argument("--images", required=True, help="folder (searched recursively) or glob of person crops")
    p.add_argument("--out", required=True, help="output .npz")
    p.add_argument("--flip", action="store_true", help="average with the horizontal flip")
    p.add_argument("--device", default="auto")
    p.add_argument("-v", "--verbose", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    files = collect_images(args.images)
    device = resolve_device(args.device)
    model, cfg = model_from_checkpoint(load_checkpoint(args.checkpoint), device)
    samples = [ReIDSample(f, -1, 0) for f in files]
    feats = extract_features(model, build_test_loader(samples, cfg), device=device, flip=args.flip,
                             amp=device.type == "cuda", progress=True)
    features = torch.nn.functional.normalize(feats.features.float(), dim=1).numpy().astype(np.float32)
    out = Path(args.out)
    with atomic_open(out, "wb") as fh:
        np.savez(fh, features=features, paths=np.array(feats.paths), checkpoint=str(args.checkpoint))
    print(f"wrote {len(features)} embeddings of dimension {features.shape[1]} to {out}")
    return 0
