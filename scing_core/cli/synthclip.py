"""``scing synthclip``: pre-train the small SynthCLIP model on SynthPed captions.

    scing synthclip --out models/synthclip-s.pt
    scing synthclip --out /tmp/synthclip-s.pt --quick
    scing train --config synthped/scing --run-dir runs/scing model.arch=synthclip-s model.pretrained=models/synthclip-s.pt
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

from tqdm import tqdm

from scing_core.cli.options import add_verbose, parse_args

DESCRIPTION = """\
Pre-train SynthCLIP-S (the project's open_clip architecture `synthclip-s`: a 128x64 ViT and a small
text transformer) contrastively on SynthPed images and their attribute captions, the way open_clip
trains CLIP (ClipLoss, AdamW, cosine schedule with warm-up). About 2 minutes on a 2-core CPU
(--quick: about 20 s).

The pre-training people are generated first (or reused) in --data (default: OUT's folder /
cache/synthclip-synthped): pids from 5001 and identity seed 1000+SEED, so they are never the people
of a demo or `scing synth` dataset (pids from 1, identity seed SEED). Half of them train; the other
half is held out to measure what the model learnt: zero-shot caption->image and image->caption R@1
against chance, and attribute probing ("a person wearing a red top": precision@k of the retrieved
images against the attribute's base rate).

Writes OUT (a checkpoint: state_dict, arch, image_size, metrics, config; load it in a ReID run with
model.arch=synthclip-s model.pretrained=OUT) and OUT.json (the metrics)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scing synthclip", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, metavar="PATH", help="checkpoint file to write (.pt); PATH.json gets the metrics")
    parser.add_argument("--epochs", type=int, default=None, metavar="N", help="training epochs (default 14; --quick: 6)")
    parser.add_argument("--ids", type=int, default=None, metavar="N",
                        help="pre-training identities, half trained on, half held out (default 800; --quick: 400)")
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the data and the training (default 0)")
    parser.add_argument("--data", default=None, metavar="DIR",
                        help="folder of the pre-training SynthPed: reused when it matches, generated otherwise "
                             "(default: <OUT's folder>/cache/synthclip-synthped)")
    parser.add_argument("--quick", action="store_true", help="a much smaller run (about 20 s) for tests and the quick demo")
    parser.add_argument("--plain", action="store_true", help="plain progress lines even on a terminal")
    add_verbose(parser)
    return parser


class ConsoleReporter:
    """``progress(done, total, detail)`` for the console: a tqdm bar with ETA on a terminal, else a
    line whenever the phase changes and every few seconds."""

    PLAIN_EVERY_S = 5.0

    def __init__(self, plain: bool, stream=None) -> None:
        self.stream = stream or sys.stderr
        self.plain = plain or not self.stream.isatty()
        self.bar = None
        self.last_phase, self.last_line = "", 0.0

    def __call__(self, done: int, total: int, detail: str) -> None:
        if not self.plain:
            if self.bar is None:
                self.bar = tqdm(total=total, file=self.stream, leave=False, desc="SynthCLIP",
                                bar_format="{desc} {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}] {postfix}")
            self.bar.update(done - self.bar.n)
            self.bar.set_postfix_str(detail, refresh=False)
            return
        phase, now = detail.split(" ", 1)[0].rstrip(":"), time.monotonic()
        if phase != self.last_phase or now - self.last_line >= self.PLAIN_EVERY_S or done >= total:
            print(f"SynthCLIP {100 * done / max(total, 1):3.0f}%  {detail}", file=self.stream, flush=True)
            self.last_phase, self.last_line = phase, now

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``scing synthclip``; returns 0 on success."""
    args = parse_args(build_parser(), argv, output="out")
    from scing_core.pretrain.synthclip import train_synthclip   # here: torch loads, not with --help

    reporter = ConsoleReporter(args.plain)
    if not reporter.plain and not args.verbose:  # the bar shows the epochs; log lines would tear it
        logging.getLogger("scing_core.pretrain").setLevel(logging.WARNING)
    try:
        metrics = train_synthclip(args.out, epochs=args.epochs, ids=args.ids, seed=args.seed, data_dir=args.data,
                                  quick=args.quick, progress=reporter)
    finally:
        reporter.close()
    print_summary(args.out, metrics)
    return 0


def print_summary(out: str, metrics: dict) -> None:
    """The numbers that say whether SynthCLIP learnt something."""
    train, held, zero, attrs = metrics["training"], metrics["held_out"], metrics["zero_shot"], metrics["attributes"]
    print(f"SynthCLIP written to {out} (+ {out}.json) in {train['total_seconds']:.0f} s: "
          f"{train['epochs']} epochs, {train['steps']} steps over {train['images']} images of {train['ids']} people")
    print(f"held out: {held['images']} images of {held['ids']} unseen people, {held['captions']} distinct captions")
    print(f"  zero-shot R@1  caption->image {100 * zero['t2i_r1']:5.1f} %   (chance {100 * zero['t2i_chance_r1']:.1f} %)")
    print(f"                 image->caption {100 * zero['i2t_r1']:5.1f} %   (chance {100 * zero['i2t_chance_r1']:.1f} %)")
    print(f"  attribute probes, precision@{attrs['k']} vs base rate "
          f"({attrs['above_base_rate']}/{attrs['probes']} above it):")
    for name, probe in attrs["per_probe"].items():
        print(f"    {probe['prompt']:34s} {100 * probe['precision_at_k']:5.1f} %  vs {100 * probe['base_rate']:5.1f} %")
