"""``scing synth``: write a SynthPed dataset (procedural pedestrians in the Market-1501 layout).

    scing synth --out data/synthped
    scing synth --out data/synthped_occluded --occluded --seed 1
    scing synth --out data/synthped_clip --ids 400 --pid-offset 1000      # people disjoint from the demo's
"""

from __future__ import annotations

import argparse
import re
import sys
import time

from tqdm import tqdm

from scing_core.cli.options import add_verbose, parse_args
from scing_core.errors import InputError

DESCRIPTION = """\
Draw a SynthPed dataset: procedurally drawn pedestrians (identity = clothing, hair, bags, build;
camera = background, lighting and colour cast, blur, noise, viewpoint mix, framing) written in
the Market-1501 layout (bounding_box_train/, query/, bounding_box_test/) plus masks/ (visible-person
masks), captions.jsonl (one caption of the visible attributes per image) and meta.json.
Half the identities train, the other half test (at most one query per identity and camera);
distractors are pid 0 in the gallery. The same arguments give byte-identical files.

--out must be new or empty, or hold an earlier SynthPed (complete or interrupted), which is
replaced only with --force. Load the result with `scing data info synthped --root DIR`."""

SIZE_PATTERN = re.compile(r"^\s*(\d+)\s*[xX,]\s*(\d+)\s*$")


def parse_size(text: str) -> tuple[int, int]:
    """``"128x64"`` -> ``(128, 64)`` (height, width)."""
    match = SIZE_PATTERN.match(text)
    if not match:
        raise InputError(f"--size '{text}' is not HEIGHTxWIDTH; write it like 128x64")
    return int(match.group(1)), int(match.group(2))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scing synth", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder (new, empty, or an earlier SynthPed with --force)")
    parser.add_argument("--ids", type=int, default=200, metavar="N", help="identities, half train / half test (default 200)")
    parser.add_argument("--images-per-id", type=int, default=10, metavar="K", help="images per identity (default 10)")
    parser.add_argument("--cams", type=int, default=6, metavar="C", help="cameras, 2-9 (default 6)")
    parser.add_argument("--size", default="128x64", metavar="HxW", help="image height x width (default 128x64)")
    parser.add_argument("--occluded", action="store_true",
                        help="occlude every query (20-60%% of the body: cars, poles, bushes, pedestrians), "
                             "20%% of training and 10%% of gallery images")
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default 0)")
    parser.add_argument("--distractors", type=int, default=100, metavar="N", help="pid-0 gallery distractors (default 100)")
    parser.add_argument("--identity-seed", type=int, default=None, metavar="S",
                        help="seed of the people themselves (default: --seed); keep it and change --seed for new pictures of the same people")
    parser.add_argument("--pid-offset", type=int, default=0, metavar="P",
                        help="number pids from P+1: people disjoint from a SynthPed with pids <= P (e.g. to pre-train a small CLIP)")
    parser.add_argument("--contact-sheet", metavar="PNG", help="also write a contact sheet (one row per identity) to this PNG")
    parser.add_argument("--force", action="store_true", help="replace an earlier SynthPed (complete or interrupted) in --out")
    add_verbose(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``scing synth``; returns 0 on success."""
    args = parse_args(build_parser(), argv)
    size = parse_size(args.size)
    from scing_core.data.synthped import generate_synthped   # here: numpy + PIL (~250 ms), not with --help

    start = time.perf_counter()
    on_terminal = sys.stderr.isatty()
    bar = tqdm(total=0, unit="img", desc="SynthPed", file=sys.stderr, disable=not on_terminal, leave=False)

    def progress(done: int, total: int) -> None:
        if on_terminal:
            if bar.total != total:
                bar.reset(total=total)
            bar.update(done - bar.n)
        elif done == total or done % max(1, total // 4) == 0:
            print(f"SynthPed: {done}/{total} images", file=sys.stderr, flush=True)

    try:
        summary = generate_synthped(args.out, ids=args.ids, images_per_id=args.images_per_id, cams=args.cams,
                                    size=size, occluded=args.occluded, seed=args.seed, distractors=args.distractors,
                                    identity_seed=args.identity_seed, progress=progress, pid_offset=args.pid_offset,
                                    overwrite=args.force)
    finally:
        bar.close()
    seconds = time.perf_counter() - start
    _print_summary(args.out, summary, seconds)
    if args.contact_sheet:
        from scing_core.data.synthped_sheet import render_contact_sheet   # here: numpy + PIL, not with --help

        print(f"contact sheet: {render_contact_sheet(args.out, args.contact_sheet)}")
    return 0


def _print_summary(out: str, summary: dict, seconds: float) -> None:
    counts = summary["counts"]
    total = sum(counts[s]["images"] for s in ("train", "query", "gallery"))
    print(f"SynthPed written to {out}: {total} images in {seconds:.1f} s ({total / max(seconds, 1e-9):.0f} images/s)")
    print(f"  {'split':8s} {'ids':>5s} {'images':>7s} {'cameras':>8s}")
    for split in ("train", "query", "gallery"):
        c = counts[split]
        extra = f"  (+ {c['distractors']} distractors, pid 0)" if split == "gallery" and c.get("distractors") else ""
        print(f"  {split:8s} {c['ids']:5d} {c['images']:7d} {c['cameras']:8d}{extra}")
    if "occlusion" in summary:
        occ = summary["occlusion"]
        print(f"  occluded images: {occ['occluded_images']} (mean hidden share of the body {100 * occ['fraction_mean']:.0f} %)")
