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
from scing_core.cli.options import add_checkpoint, add_device, add_verbose, parse_args
from scing_core.data.datasets.market_layout import IMAGE_EXTENSIONS
from scing_core.data.loaders import ConfiguredLoaders
from scing_core.data.types import ReIDSample
from scing_core.runs.checkpoints import load_checkpoint
from scing_core.device import resolve_device
from scing_core.runs.trained import model_from_checkpoint
from scing_core.errors import DatasetError, InputError
from scing_core.evaluation import evaluation_amp, extract_features


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
    add_checkpoint(p, file_help="a checkpoint written by `scing train` (e.g. RUN/checkpoints/best.pt)")
    p.add_argument("--images", required=True, help="folder (searched recursively) or glob of person crops")
    p.add_argument("--out", required=True, help="output .npz")
    p.add_argument("--flip", action="store_true", help="average with the horizontal flip")
    add_device(p)
    p.add_argument("--strict", action="store_true", help="fail when any image cannot be read (default: skip it, "
                                                        "counted in the summary and in the .npz's 'skipped')")
    add_verbose(p)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parse_args(build_parser(), argv, output="out")
    files = collect_images(args.images)
    device = resolve_device(args.device)
    model, cfg = model_from_checkpoint(load_checkpoint(args.checkpoint), device)
    samples = [ReIDSample(f, -1, 0) for f in files]
    feats = extract_features(model, ConfiguredLoaders(cfg).test(samples), device=device, flip=args.flip,
                             amp=evaluation_amp(cfg, device), progress=True, cameras=False)   # cameras unknown
    if feats.skipped and args.strict:
        raise DatasetError(f"{len(feats.skipped)} of {len(files)} images could not be read, e.g. "
                           f"{', '.join(feats.skipped[:3])}; fix or remove them, or drop --strict")
    features = torch.nn.functional.normalize(feats.features.float(), dim=1).numpy().astype(np.float32)
    out = Path(args.out)
    with atomic_open(out, "wb") as fh:
        np.savez(fh, features=features, paths=np.array(feats.paths), checkpoint=str(args.checkpoint),
                 skipped=np.array(feats.skipped, dtype=str))
    print(f"wrote {len(features)} embeddings of dimension {features.shape[1]} to {out}")
    if feats.skipped:
        print(f"skipped {len(feats.skipped)} unreadable image(s), e.g. {', '.join(feats.skipped[:3])} "
              "(listed in the .npz's 'skipped'; --strict makes this an error)")
    return 0
