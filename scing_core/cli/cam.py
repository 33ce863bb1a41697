"""``scing cam``: Grad-CAM saliency grid across runs (the paper's Fig. 5 layout).

Rows are the images, columns the plain image then one overlay per run, on one shared colour
scale. Writes the figure as PNG and PDF (same stem) and prints, per run and image, the share of
the saliency that falls on the person (SynthPed images have person masks; other images show "-").

    scing cam --run-dir runs/clipreid --run-dir runs/scing \\
              --image data/synthped/query/0001_c3s1_000204_00.jpg --image data/synthped/query/0002_c3s1_000333_00.jpg \\
              --target prototype --method gradcam --out cam.png

Targets: ``prototype`` (cosine similarity to the identity's text prototype; the nearest prototype
for images of identities the run did not train on), ``image:PATH`` (cosine similarity to that
image's descriptor: a query–gallery pair) or ``norm`` (descriptor norm).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from scing_core.analysis.saliency import compute_saliency, describe_cam_methods, list_cam_methods, saliency_grid_figure
from scing_core.cli.options import (add_checkpoint, add_device, add_json,
                                     add_run_dir, add_verbose, parse_args, print_json)
from scing_core.errors import InputError


def build_parser() -> argparse.ArgumentParser:
    methods = "\n".join(f"  {name:<20} {summary}" for name, summary in describe_cam_methods().items())
    p = argparse.ArgumentParser(prog="scing cam", description=__doc__, epilog=f"CAM methods (--method):\n{methods}",
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_run_dir(p, "a run directory written by `scing train`; repeat for one column per run", many=True)
    p.add_argument("--image", action="append", required=True, nargs="+", metavar="PATH",
                   help="image(s) to explain; repeat or list several for one row each")
    p.add_argument("--target", default="prototype", help="prototype | image:PATH | norm (default: prototype)")
    p.add_argument("--method", default="gradcam", help=f"one of: {', '.join(list_cam_methods())} (default: gradcam)")
    add_checkpoint(p)
    add_device(p)
    p.add_argument("--out", required=True, help="figure path (.png; the .pdf is written next to it)")
    add_json(p, "person shares and figure paths")
    add_verbose(p)
    return p


def column_names(run_dirs: list[str]) -> list[str]:
    """Column titles: the run folders' names, with their parent folder where two names collide."""
    paths = [Path(d).expanduser().resolve() for d in run_dirs]
    if len(set(paths)) != len(paths):
        raise InputError("the same --run-dir is given twice; give each run once")
    names = [p.name for p in paths]
    return [f"{p.parent.name}/{p.name}" if names.count(p.name) > 1 else p.name for p in paths]


def _mean(values: list[float]) -> float | None:
    valid = [v for v in values if v is not None and not math.isnan(v)]
    return sum(valid) / len(valid) if valid else None


def _number(value: float | None) -> float | None:
    """JSON has no NaN: an undefined share (all-zero map) is reported as null, like a missing mask."""
    return None if value is None or math.isnan(value) else float(value)


def _report(results_by_run: dict, png: Path) -> dict:
    rows = [{"run": run, "image": r.path, "person_share": _number(r.person_share), "note": r.note}
            for run, results in results_by_run.items() for r in results]
    means = {run: _mean([r.person_share for r in results]) for run, results in results_by_run.items()}
    first = next(iter(results_by_run.values()))[0]
    return {"figure": str(png), "pdf": str(png.with_suffix(".pdf")), "method": first.method, "target": first.target,
            "mean_person_share": means, "results": rows}


def _print_table(report: dict) -> None:
    fmt = lambda v: "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.3f}"  # noqa: E731
    print(f"person share ({report['method']}, target {report['target']}; share of saliency on the person mask):")
    for row in report["results"]:
        print(f"  {row['run']:<16} {Path(row['image']).name:<32} {fmt(row['person_share']):>6}   {row['note']}")
    for run, mean in report["mean_person_share"].items():
        print(f"  {run:<16} {'mean':<32} {fmt(mean):>6}")
    print(f"wrote {report['figure']} and {report['pdf']}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(build_parser(), argv, output="out")
    images = [path for group in args.image for path in group]
    results_by_run = {}
    for name, run_dir in zip(column_names(args.run_dir), args.run_dir):
        results = compute_saliency(run_dir, images, target=args.target, method=args.method,
                                   checkpoint=args.checkpoint, device=args.device)
        for result in results:
            result.run = name
        results_by_run[name] = results
    png = saliency_grid_figure(results_by_run, args.out)
    report = _report(results_by_run, png)
    if args.json:
        print_json(report)
        print()
    else:
        _print_table(report)
    return 0
