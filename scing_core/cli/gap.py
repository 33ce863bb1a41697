"""``scing gap``: the image-text modality gap of one or more runs (paper Fig. 1), as numbers and a figure.

For N identities of each run's training split, every image's projected embedding is paired with a
text embedding of its identity - the class prototype, or (cocoop / scing, the default with
--text auto) the image's own conditioned text feature - and the pairs are projected jointly to
2-D (UMAP with the cosine metric, or PCA). The figure shows one panel per run: image points red,
text points blue, a grey line per pair. Numbers per run: mean paired cosine distance, the
centroid gap ||mean(image) - mean(text)|| on normalised embeddings, and image->text identity R@1.
"""

from __future__ import annotations

import argparse
import sys

from scing_core.cli.options import (add_checkpoint, add_data_root, add_device, add_json,
                                     add_run_dir, add_verbose, parse_args, print_json)
from scing_core.analysis.projection import PROJECTIONS

EPILOG = """\
examples:
  scing gap --run-dir runs/clipreid --run-dir runs/cocoop --run-dir runs/scing --out gap.png
  scing gap --run-dir runs/scing --projection pca --text prototype --out gap.png --json

notes:
  UMAP compiles with numba on its first use (15-40 s, cached under ~/.cache/scing-studio/numba);
  --projection pca is instant. --split test uses test identities, each paired with the nearest
  training prototype (see docs/analysis.md). Writes the PNG and a PDF next to it.
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="scing gap", description=__doc__, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_run_dir(p, "a run directory written by `scing train` (repeat for side-by-side panels)", many=True)
    p.add_argument("--out", required=True, metavar="PNG", help="figure path (a .pdf is written next to it)")
    p.add_argument("--ids", type=int, default=30, help="identities per run (default: 30)")
    p.add_argument("--images-per-id", type=int, default=8, help="at most this many images per identity (default: 8)")
    p.add_argument("--projection", choices=PROJECTIONS, default="umap", help="2-D projection (default: umap; tsne: scikit-learn)")
    p.add_argument("--text", choices=("auto", "prototype", "conditioned"), default="auto",
                   help="paired text: auto = conditioned for cocoop/scing, prototype for clipreid (default: auto)")
    p.add_argument("--split", choices=("train", "test"), default="train", help="identities from this split (default: train)")
    add_checkpoint(p)
    add_data_root(p, "the dataset folder, if it moved since training (default: the run's data.root)")
    add_device(p)
    p.add_argument("--seed", type=int, default=0, help="which identities / images are drawn, and the UMAP seed (default: 0)")
    add_json(p, "the metrics per run")
    add_verbose(p)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parse_args(build_parser(), argv, output="out")
    from scing_core.analysis.modality_gap import collect_gap_embeddings, gap_figure, project_2d   # here: torch, not with --help
    from scing_core.analysis.robustness import run_labels   # here: torch, not with --help

    results = [collect_gap_embeddings(run_dir, ids=args.ids, text=args.text, checkpoint=args.checkpoint,
                                      device=args.device, seed=args.seed, split=args.split,
                                      images_per_id=args.images_per_id, root=args.data_root)
               for run_dir in args.run_dir]
    if args.projection == "umap":
        print("projecting with UMAP (the first use compiles numba kernels: 15-40 s)", file=sys.stderr)
    results = project_2d(results, method=args.projection, seed=args.seed)
    png = gap_figure(results, args.out)
    report = {label: {"run_dir": r.run, "method": r.method, "text_kind": r.text_kind, "split": r.split, **r.metrics}
              for label, r in zip(run_labels([r.run for r in results]), results)}
    if args.json:
        print_json(report)
    else:
        for label, row in report.items():
            print(f"{label} ({row['method']}, {row['text_kind']} text, {row['num_ids']} ids / {row['num_images']} images): "
                  f"centroid gap {row['centroid_gap']:.3f}  mean paired 1-cos {row['mean_paired_cosine_distance']:.3f}  "
                  f"i2t R@1 {100 * row['i2t_r1']:.1f}%")
        print(f"figure: {png} (+ {png.with_suffix('.pdf').name})")
    return 0
