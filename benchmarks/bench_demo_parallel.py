"""The demo on every core: `scing demo` with its independent steps at once (the default) against
`scing demo --sequential` (one step after another, the baseline), both from scratch, in the same call.

Prints, for each: wall time, CPU time (user + sys of every process it started) and wall / CPU (the goal
on 2 cores: <= 0.6, i.e. more than 1.67 cores busy on average), the speed-up of the wall time, and
whether the three runs' metrics agree (mAP and R1 on both test splits, to the 0.1 the report prints).

    python benchmarks/bench_demo_parallel.py            # the quick demo (~2 x 2-3 min on 2 cores)
    python benchmarks/bench_demo_parallel.py --full     # the full demo (~2 x 5-12 min)
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

METHODS = ("clipreid", "cocoop", "scing")


def build(workspace: Path, full: bool, sequential: bool) -> dict:
    argv = [sys.executable, "-m", "scing_core.cli", "demo", "--workspace", str(workspace), "--plain"]
    argv += [] if full else ["--quick"]
    argv += ["--sequential"] if sequential else []
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"`{' '.join(argv[2:])}` failed:\n{done.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "metrics": metrics(workspace)}


def metrics(workspace: Path) -> dict:
    out = {}
    for method in METHODS:
        final = json.loads((workspace / "runs" / method / "metrics.json").read_text())["final"]
        out[method] = {test: (round(100 * m["mAP"], 1), round(100 * m["R1"], 1)) for test, m in sorted(final.items())}
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="the full demo instead of the quick one")
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="bench-demo-"))
    try:
        baseline = build(root / "sequential", args.full, sequential=True)
        parallel = build(root / "parallel", args.full, sequential=False)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    for name, result in (("sequential (baseline)", baseline), ("parallel", parallel)):
        print(f"{name:22s} wall {result['wall']:7.1f} s   CPU {result['cpu']:7.1f} s   wall/CPU {result['wall'] / result['cpu']:.2f}")
    print(f"speed-up of the wall time: {baseline['wall'] / parallel['wall']:.2f}x (goal: wall/CPU <= 0.60 on 2 cores)")
    same = baseline["metrics"] == parallel["metrics"]
    print("metrics (mAP, R1 % per test split):", "identical" if same else "DIFFERENT")
    for method in METHODS:
        print(f"  {method:9s} sequential {baseline['metrics'][method]}  parallel {parallel['metrics'][method]}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
