"""Time and peak memory of k-reciprocal re-ranking on a Market-1501-sized problem.

    .venv/bin/python benchmarks/bench_rerank.py [--queries 3368 --gallery 15913 --dim 512]

Features are random 512-D vectors around 751 identity centres, noisy enough that plain ranking
is far from perfect (so that neighbourhoods have structure, as real ReID features do). The peak is the process's resident-set high-water mark
(``ru_maxrss``) minus the resident size after the features were made: it counts the 0.2 GB output.
For reference, a dense implementation would hold several N x N matrices (N = queries + gallery).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scing_core.evaluation import evaluate_rank, k_reciprocal_rerank  # noqa: E402


def current_rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def make_problem(num_query: int, num_gallery: int, dim: int, num_ids: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(num_ids, dim)).astype(np.float32)
    q_pids, g_pids = rng.integers(0, num_ids, num_query), rng.integers(0, num_ids, num_gallery)
    qf = centres[q_pids] + 3.0 * rng.normal(size=(num_query, dim)).astype(np.float32)
    gf = centres[g_pids] + 3.0 * rng.normal(size=(num_gallery, dim)).astype(np.float32)
    return qf, gf, q_pids, g_pids, rng.integers(0, 6, num_query), rng.integers(0, 6, num_gallery)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=3368)
    parser.add_argument("--gallery", type=int, default=15913)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--ids", type=int, default=751)
    args = parser.parse_args()
    qf, gf, q_pids, g_pids, q_cams, g_cams = make_problem(args.queries, args.gallery, args.dim, args.ids)
    before = current_rss_mib()
    start = time.perf_counter()
    distmat = k_reciprocal_rerank(qf, gf)
    seconds = time.perf_counter() - start
    peak = peak_rss_mib() - before
    num_all = args.queries + args.gallery
    print(f"re-ranking {args.queries} x {args.gallery} ({args.dim}-D): {seconds:.1f} s, "
          f"peak memory +{peak:.0f} MiB (output {distmat.nbytes / 2**20:.0f} MiB; one dense N x N float32 "
          f"matrix alone is {num_all ** 2 * 4 / 2**20:.0f} MiB)")
    plain = np.sqrt(np.maximum(((qf / np.linalg.norm(qf, axis=1, keepdims=True)) @
                                (gf / np.linalg.norm(gf, axis=1, keepdims=True)).T) * -2 + 2, 0))
    before_map = evaluate_rank(plain, q_pids, g_pids, q_cams, g_cams).mAP
    after_map = evaluate_rank(distmat, q_pids, g_pids, q_cams, g_cams).mAP
    print(f"mAP on this synthetic problem: {before_map:.4f} -> {after_map:.4f} after re-ranking")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
