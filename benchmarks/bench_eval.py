"""Speed of evaluate_rank against a per-query loop, on a Market-1501-sized random problem.

    .venv/bin/python benchmarks/bench_eval.py [--queries 3368 --gallery 15913 --ids 751 --cams 6]
                                              [--loop-queries N] [--repeats 3]

The problem: random 128-D features around one centre per identity, float32 cosine distances (as
``compute_distance`` returns them), random pids and cameras. The baseline is the protocol written as
a per-query loop in the manner of torchreid's ``eval_market1501`` (numpy argsort of the row,
junk removal, cumulative matches), with its list comprehension over the gallery replaced by
numpy operations, which makes it a stronger baseline than torchreid's pure-Python version.
Both run in this process on the same data; each is timed ``--repeats`` times and the best time
is kept. ``--loop-queries`` times the loop on the first N queries only and scales it (the output
says so). The peak is the extra memory numpy allocated during evaluate_rank (tracemalloc).
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scing_core.evaluation import compute_distance, evaluate_rank  # noqa: E402


def make_problem(num_query: int, num_gallery: int, num_ids: int, num_cams: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(num_ids, 128)).astype(np.float32)
    q_pids, g_pids = rng.integers(0, num_ids, num_query), rng.integers(0, num_ids, num_gallery)
    qf = centres[q_pids] + 1.5 * rng.normal(size=(num_query, 128)).astype(np.float32)
    gf = centres[g_pids] + 1.5 * rng.normal(size=(num_gallery, 128)).astype(np.float32)
    distmat = compute_distance(qf, gf).numpy()
    return distmat, q_pids, g_pids, rng.integers(0, num_cams, num_query), rng.integers(0, num_cams, num_gallery)


def per_query_loop(distmat, q_pids, g_pids, q_camids, g_camids, num_queries: int) -> tuple[float, int]:
    """The protocol one query at a time; returns (sum of AP, number of valid queries)."""
    ap_sum, num_valid = 0.0, 0
    for q in range(num_queries):
        order = np.argsort(distmat[q])
        matches = g_pids[order] == q_pids[q]
        keep = ~(matches & (g_camids[order] == q_camids[q]))
        hits = matches[keep]
        if not hits.any():
            continue
        positions = np.flatnonzero(hits)
        ap_sum += float(np.mean(np.arange(1, positions.size + 1) / (positions + 1)))
        num_valid += 1
    return ap_sum, num_valid


def best_time(function, repeats: int) -> tuple[float, object]:
    best, value = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        value = function()
        best = min(best, time.perf_counter() - start)
    return best, value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=3368)
    parser.add_argument("--gallery", type=int, default=15913)
    parser.add_argument("--ids", type=int, default=751)
    parser.add_argument("--cams", type=int, default=6)
    parser.add_argument("--loop-queries", type=int, default=0, help="time the loop on this many queries and scale")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    problem = make_problem(args.queries, args.gallery, args.ids, args.cams)
    loop_queries = args.loop_queries or args.queries

    fast_seconds, result = best_time(lambda: evaluate_rank(*problem), args.repeats)
    loop_seconds, (ap_sum, loop_valid) = best_time(lambda: per_query_loop(*problem, loop_queries), args.repeats)
    scaled = loop_seconds * args.queries / loop_queries
    tracemalloc.start()
    evaluate_rank(*problem)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    print(f"problem: {args.queries} queries x {args.gallery} gallery, {args.ids} ids, {args.cams} cameras (float32)")
    print(f"evaluate_rank:  {fast_seconds:.3f} s   mAP {result.mAP:.6f}  R1 {result.cmc[0]:.4f}  "
          f"valid {result.num_valid}  peak +{peak / 2**20:.0f} MiB")
    note = "" if loop_queries == args.queries else f" (timed on {loop_queries} queries, scaled x{args.queries / loop_queries:.2f})"
    loop_map = f"  mAP {ap_sum / loop_valid:.6f}" if loop_queries == args.queries and loop_valid else ""
    print(f"per-query loop: {scaled:.3f} s{note}{loop_map}")
    print(f"speed-up: {scaled / fast_seconds:.1f}x (best of {args.repeats} runs each, same process)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
