"""``scing robustness``: mAP and Rank-1 of one or more runs as their queries are increasingly occluded.

Each run is re-evaluated on its test dataset with every query image damaged at increasing
occluded fractions of its area: a synthetic occluder (pole / box / bush) pasted over exactly that
share of pixels (mode "occlude"), and a randomly placed mean-colour rectangle of the same area
(mode "erase"). The gallery stays clean. The same seed puts the same occluder on the same query
for every run. Writes a two-panel figure (mAP and R1 against the fraction; PNG + PDF).
"""

from __future__ import annotations

import argparse

from scing_core.cli.options import (add_checkpoint, add_data_root, add_device, add_json,
                                     add_run_dir, add_verbose, parse_args, print_json)
from scing_core.errors import InputError

EPILOG = """\
examples:
  scing robustness --run-dir runs/clipreid --run-dir runs/scing --out robustness.png
  scing robustness --run-dir runs/scing --fractions 0,0.2,0.4,0.6 --modes occlude --out r.png --json

With --checkpoint last, fraction 0 reproduces the run's own final eval (RUN_DIR/eval/<dataset>).
"""


def parse_fractions(text: str) -> list[float]:
    """'0,0.2,0.4' -> [0.0, 0.2, 0.4]; percentages such as '20%' are accepted too."""
    values = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        try:
            values.append(float(part[:-1]) / 100 if part.endswith("%") else float(part))
        except ValueError:
            raise InputError(f"--fractions: '{part}' is not a number; write e.g. 0,0.2,0.4,0.6") from None
    if not values:
        raise InputError("--fractions: give at least one fraction, e.g. 0,0.2,0.4,0.6")
    return values


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="scing robustness", description=__doc__, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_run_dir(p, "a run directory written by `scing train` (repeat to compare runs)", many=True)
    p.add_argument("--out", required=True, metavar="PNG", help="figure path (a .pdf is written next to it)")
    p.add_argument("--fractions", default="0,0.1,0.2,0.3,0.4,0.5,0.6",
                   help="occluded fractions of each query, comma-separated (default: 0,0.1,...,0.6)")
    p.add_argument("--modes", default="occlude,erase", help="occlude and/or erase, comma-separated (default: both)")
    add_checkpoint(p)
    p.add_argument("--dataset", help="evaluate on this dataset instead of the run's first test dataset")
    add_data_root(p, "dataset folder (default: the run's data.root)")
    add_device(p)
    p.add_argument("--seed", type=int, default=0, help="seed of the occluders (default: 0)")
    add_json(p, "the curves")
    add_verbose(p)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parse_args(build_parser(), argv, output="out")
    from scing_core.analysis.robustness import robustness_curves, robustness_figure   # here: torch, not with --help

    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    curves = robustness_curves(args.run_dir, fractions=parse_fractions(args.fractions), modes=modes,
                               checkpoint=args.checkpoint, device=args.device, seed=args.seed,
                               dataset=args.dataset, root=args.data_root, progress=not args.json)
    png = robustness_figure(curves, args.out)
    if args.json:
        print_json(curves)
        return 0
    header = "fraction " + " ".join(f"{100 * f:>5.0f}%" for f in curves["fractions"])
    for label, run in curves["runs"].items():
        print(f"{label} ({run['method']}, {run['dataset']}, {run['num_query']} queries)")
        print("  " + header)
        for mode, values in run["curves"].items():
            for metric in ("mAP", "R1"):
                print(f"  {mode:>7} {metric:<3} " + " ".join(f"{100 * v:6.1f}" for v in values[metric]))
    print(f"figure: {png} (+ {png.with_suffix('.pdf').name})")
    return 0
