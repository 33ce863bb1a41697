"""``scing ranking``: the ranked lists of chosen (or the worst) queries as a paper figure.

One row per query: the query image, then its top-k gallery images framed green (same identity),
red (another identity) or grey dashed (junk: same identity and camera, ignored by the protocol),
each with its rank, distance and identity. Reads an eval folder (RUN_DIR/eval/<dataset>, written by
`scing eval` or at the end of `scing train`); writes PNG + PDF.
"""

from __future__ import annotations

import argparse

from scing_core.cli.options import add_verbose, parse_args

EPILOG = """\
examples:
  scing ranking --eval-dir runs/scing/eval/synthped --out worst.png               # the 5 worst queries
  scing ranking --eval-dir runs/scing/eval/synthped --query 17 --query 42 --k 8 --out q.png
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="scing ranking", description=__doc__, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--eval-dir", required=True, metavar="DIR", help="an eval folder, e.g. RUN_DIR/eval/synthped")
    p.add_argument("--out", required=True, metavar="PNG", help="figure path (a .pdf is written next to it)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--query", type=int, action="append", metavar="I",
                       help="query index (0-based, as the studio's Retrieval tab numbers them); repeat for more rows")
    which.add_argument("--worst", type=int, metavar="N", help="the N queries with the lowest AP (default 5)")
    p.add_argument("--k", type=int, default=10, help="gallery images per row (default 10)")
    p.add_argument("--title", help="a title above the rows")
    add_verbose(p)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parse_args(build_parser(), argv, output="out")
    from scing_core.analysis.ranking_figure import ranking_figure   # here: torch + matplotlib, not with --help

    png = ranking_figure(args.eval_dir, args.out, queries=args.query, worst=args.worst, k=args.k, title=args.title)
    print(f"figure: {png} (+ {png.with_suffix('.pdf').name})")
    return 0
