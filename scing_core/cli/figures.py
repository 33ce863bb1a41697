"""``scing figures``: positive / negative distance histograms and the ROC curve of a run's evaluation.

Reads an eval folder (RUN_DIR/eval/<dataset>, written by `scing eval` or at the end of
`scing train`), recomputes the query-gallery distances from its stored features (re-ranked ones
if the folder was written with --rerank) and draws two panels sized for a paper column: the
distance densities of positive (same identity, other camera) and negative pairs, and TAR against
FAR with its AUC. Writes PNG + PDF.
"""

from __future__ import annotations

import argparse

from scing_core.cli.options import add_verbose, parse_args

EPILOG = """\
example:
  scing figures --eval-dir runs/scing/eval/synthped --out distances.png
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="scing figures", description=__doc__, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--eval-dir", required=True, metavar="DIR", help="an eval folder, e.g. RUN_DIR/eval/synthped")
    p.add_argument("--out", required=True, metavar="PNG", help="figure path (a .pdf is written next to it)")
    p.add_argument("--bins", type=int, default=50, help="histogram bins (default: 50)")
    add_verbose(p)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parse_args(build_parser(), argv, output="out")
    from scing_core.analysis.distance_figures import distance_figures   # here: torch + matplotlib, not with --help

    png = distance_figures(args.eval_dir, args.out, bins=args.bins)
    print(f"figure: {png} (+ {png.with_suffix('.pdf').name})")
    return 0

