"""How hard is SynthPed? A hand-made colour-histogram descriptor, no learning.

Each image becomes HSV joint histograms (8 hue x 4 saturation x 4 value bins) over horizontal
stripes (1 = one global histogram, 6 = six body bands), square-rooted and L2-normalised
(Hellinger); the gallery is ranked by Euclidean distance and scored with the Market-1501 protocol.
Two weightings: ``plain`` (every pixel counts once) and ``centre`` (pixels weighted by a Gaussian of
their distance to the vertical centre line, sigma = width / 4, as SDALF-style weighted histograms
do to damp the background). A random ranking is scored too (chance level).

    python benchmarks/color_hist_baseline.py                 # generates the default SynthPed in a temp dir
    python benchmarks/color_hist_baseline.py --root data/synthped
    python benchmarks/color_hist_baseline.py --occluded      # default split, occluded queries

Metrics come from ``scing_core.evaluation.evaluate_rank`` when it is importable, else from the small
local routine below (same protocol).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

BINS = (8, 4, 4)


def hsv_descriptor(path: str, stripes: int, centre: bool = False) -> np.ndarray:
    """Concatenated per-stripe HSV histograms, Hellinger-normalised; ``centre`` weights pixels
    by a Gaussian of their horizontal distance to the image centre."""
    with Image.open(path) as im:
        hsv = np.asarray(im.convert("RGB").convert("HSV"), dtype=np.int32)
    idx = (hsv[..., 0] * BINS[0] // 256) * BINS[1] * BINS[2] + (hsv[..., 1] * BINS[1] // 256) * BINS[2] + hsv[..., 2] * BINS[2] // 256
    width = idx.shape[1]
    xs = (np.arange(width) - (width - 1) / 2) / (width / 4)
    weight = np.broadcast_to(np.exp(-0.5 * xs**2) if centre else np.ones(width), idx.shape)
    n_bins = BINS[0] * BINS[1] * BINS[2]
    parts = []
    for band, w in zip(np.array_split(idx, stripes, axis=0), np.array_split(weight, stripes, axis=0)):
        hist = np.bincount(band.ravel(), weights=w.ravel(), minlength=n_bins)
        parts.append(np.sqrt(hist / hist.sum()))
    feat = np.concatenate(parts)
    return feat / np.linalg.norm(feat)


def local_evaluate(distmat, q_pids, g_pids, q_camids, g_camids):
    """Market-1501 single-query mAP and CMC (fallback when scing_core.evaluation is missing)."""
    aps, first_hits = [], []
    for i in range(distmat.shape[0]):
        order = np.argsort(distmat[i], kind="stable")
        keep = ~((g_pids[order] == q_pids[i]) & (g_camids[order] == q_camids[i]))
        matches = (g_pids[order] == q_pids[i])[keep]
        if not matches.any():
            continue
        hits = np.flatnonzero(matches)
        aps.append(float(np.mean((np.arange(len(hits)) + 1) / (hits + 1))))
        first_hits.append(int(hits[0]))
    first_hits = np.asarray(first_hits)
    cmc = np.array([(first_hits < k).mean() for k in range(1, 51)])
    return float(np.mean(aps)), cmc


def evaluate(distmat, q_pids, g_pids, q_camids, g_camids) -> tuple[float, np.ndarray, str]:
    try:
        try:
            from scing_core.evaluation import evaluate_rank
        except ImportError:
            from scing_core.evaluation.metrics import evaluate_rank
    except ImportError:
        return (*local_evaluate(distmat, q_pids, g_pids, q_camids, g_camids), "local routine")
    result = evaluate_rank(distmat, q_pids, g_pids, q_camids, g_camids, max_rank=50)
    return float(result.mAP), np.asarray(result.cmc), "scing_core.evaluation.evaluate_rank"


def load_split(root: Path):
    """(query, gallery) lists of (path, pid, camid), through the registered loader when present."""
    from scing_core.errors import RegistryError

    try:
        from scing_core.data import load_dataset

        data = load_dataset("synthped", root)
    except RegistryError:
        from scing_core.data.datasets.market_layout import load_market_layout

        data = load_market_layout(str(root), "synthped", ["synthped"])
    return data.query, data.gallery


def run(root: Path, stripes: int, centre: bool, seed: int = 0) -> dict:
    query, gallery = load_split(root)
    qf = np.stack([hsv_descriptor(s.path, stripes, centre) for s in query])
    gf = np.stack([hsv_descriptor(s.path, stripes, centre) for s in gallery])
    dist = np.sqrt(np.maximum(2.0 - 2.0 * qf @ gf.T, 0.0))
    ids = [np.array([getattr(s, k) for s in part]) for part in (query, gallery) for k in ("pid", "camid")]
    q_pids, q_cams, g_pids, g_cams = ids
    mAP, cmc, source = evaluate(dist, q_pids, g_pids, q_cams, g_cams)
    chance = np.random.default_rng(seed).random(dist.shape)
    chance_map, chance_cmc, _ = evaluate(chance, q_pids, g_pids, q_cams, g_cams)
    return {"queries": len(query), "gallery": len(gallery), "mAP": mAP, "R1": float(cmc[0]), "R5": float(cmc[4]),
            "chance_mAP": chance_map, "chance_R1": float(chance_cmc[0]), "metric_source": source}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, help="a SynthPed folder (default: generate the default split in a temp dir)")
    parser.add_argument("--occluded", action="store_true", help="generate the occluded variant (ignored with --root)")
    parser.add_argument("--seed", type=int, default=0, help="SynthPed seed when generating (default 0)")
    parser.add_argument("--stripes", type=int, nargs="+", default=[1, 6], help="horizontal stripes per descriptor")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = args.root
        if root is None:
            from scing_core.data.synthped import generate_synthped

            root = Path(tmp) / "synthped"
            start = time.perf_counter()
            generate_synthped(root, occluded=args.occluded, seed=args.seed)
            print(f"generated the default SynthPed (seed {args.seed}, occluded={args.occluded}) "
                  f"in {time.perf_counter() - start:.1f} s")
        for centre in (False, True):
            for stripes in args.stripes:
                r = run(root, stripes, centre, args.seed)
                name = f"HSV histogram, {'centre' if centre else 'plain'}, {stripes} stripe(s)"
                print(f"{name:36s} mAP {100 * r['mAP']:5.1f} %  R1 {100 * r['R1']:5.1f} %  "
                      f"R5 {100 * r['R5']:5.1f} %")
        print(f"chance (random ranking): mAP {100 * r['chance_mAP']:.1f} %  R1 {100 * r['chance_R1']:.1f} %   "
              f"({r['queries']} queries, {r['gallery']} gallery; metrics: {r['metric_source']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
