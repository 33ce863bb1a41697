"""``scing efficiency``: parameters, FLOPs and latency per method (the paper's Table 4).

No weights are needed: each method's model is built with random weights, which changes neither
its size nor its cost.
"""

from __future__ import annotations

import argparse
import dataclasses

from scing_core.cli.options import add_device, add_json, print_json
from scing_core.config import resolve_config
from scing_core.errors import InputError

PAPER_TABLE4 = {"clipreid": (126.55, 24.14), "cocoop": (126.59, 24.14), "scing": (126.95, 24.14)}

EPILOG = """\
columns:
  train params     everything the two stages use: image encoder (+ SIE), text encoder, prompt
                   learner, BNNecks + classifiers (CLIP's token-embedding table excluded: it only
                   embeds the fixed prompt words once)
  infer params     the image encoder (+ SIE): inference uses nothing else
  GMACs all        inference multiply-adds of one image, every matrix product (attention included)
  GMACs lin/conv   the same, linear and convolution layers only
  GFLOPs paper-style  2 FLOPs per MAC of the nn.Linear / nn.Conv2d modules that run (what a
                   module-hook counter such as thop sees: attention blocks are invisible to it);
                   this reproduces the paper's 24.14 G for ViT-B-16, 256x128, stride 12
  ms/image         median latency of the inference path on --device

The model setting (architecture, stride, input size, SIE) comes from --config, by default the
paper's SCING preset (occluded_duke/scing: ViT-B-16, 256x128, stride 12, SIE); --arch, --stride,
--image-size and --num-cams override it.

examples:
  scing efficiency                                   # the paper's Table 4 setting
  scing efficiency --config occluded_duke/clipreid/plain   # CLIP-ReID without SIE / overlapping patches
  scing efficiency --arch ViT-B-16 --num-classes 702 --stride 16 --image-size 256x128
"""

DEFAULT_PRESET = "occluded_duke/scing"
SIE_CAMERAS = 8  # DukeMTMC-reID / Occluded-Duke cameras, when the preset uses SIE and --num-cams is not given


def parse_image_size(text: str) -> tuple[int, int]:
    """'256x128' -> (256, 128)."""
    parts = text.lower().replace("*", "x").split("x")
    try:
        height, width = (int(p) for p in parts)
    except ValueError:
        raise InputError(f"--image-size must look like HEIGHTxWIDTH (e.g. 256x128), got '{text}'") from None
    if height <= 0 or width <= 0:
        raise InputError(f"--image-size must be positive, got '{text}'")
    return height, width


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scing efficiency",
        description="Parameters, FLOPs and latency of clipreid / cocoop / scing (paper Table 4). "
        "Builds each model with random weights; nothing is downloaded.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", default=DEFAULT_PRESET,
                        help=f"preset or YAML whose model setting to measure (default: {DEFAULT_PRESET})")
    parser.add_argument("--arch", help="open_clip or project architecture (default: the preset's, ViT-B-16)")
    parser.add_argument("--num-classes", type=int, default=702, help="training identities (default: 702, DukeMTMC)")
    parser.add_argument("--num-cams", type=int,
                        help=f"SIE camera embeddings, 0 = no SIE (default: {SIE_CAMERAS} when the preset uses SIE, else 0)")
    parser.add_argument("--stride", type=int, help="ViT patch stride (default: the preset's, 12 = overlapping patches)")
    parser.add_argument("--image-size", help="input HEIGHTxWIDTH (default: the preset's, 256x128)")
    parser.add_argument("--methods", default="clipreid,cocoop,scing", help="comma-separated methods (default: all three)")
    add_device(parser, "; where latency is measured")
    parser.add_argument("--repeats", type=int, default=10, help="timed forward passes per method; 0 skips latency")
    parser.add_argument("--batch-size", type=int, default=1, help="images per timed forward pass (default: 1)")
    add_json(parser, "the table")
    return parser


def _paper_note(rows: list, arch: str, stride: int, image_size: tuple[int, int]) -> str:
    """The paper's Table 4 next to ours: its setting (ours where it differs) and, per method, the parameter
    difference to CLIP-ReID here and there, with what makes ours (the fusion modules' sizes: our reading,
    the paper gives none; docs/fidelity.md)."""
    if arch != "ViT-B-16":
        return ""
    paper = ", ".join(f"{m} {p:.2f} M / {f:.2f} G" for m, (p, f) in PAPER_TABLE4.items())
    setting = "ViT-B-16, 256x128, stride 12; its number of identities is not given"
    if (stride, image_size) != (12, (256, 128)):
        setting += f" (this table: stride {stride}, {image_size[0]}x{image_size[1]}: not comparable)"
    lines = [f"\npaper Table 4 ({setting}): {paper}"]
    base = next((r for r in rows if r.method == "clipreid"), None)
    for row in rows:
        if base is None or row is base or row.method not in PAPER_TABLE4:
            continue
        ours = (row.train_params - base.train_params) / 1e6
        theirs = PAPER_TABLE4[row.method][0] - PAPER_TABLE4["clipreid"][0]
        parts = " + ".join(f"{name} {widths} ({count / 1e6:.3f} M)" for name, (widths, count) in row.fusion_parts.items())
        lines.append(f"{row.method} - clipreid: {ours:+.3f} M here, {theirs:+.2f} M in the paper; ours is {parts}, "
                     "the sizes we read (the paper gives none)")
    return "\n".join(lines)


def _fill_from_preset(args: argparse.Namespace) -> None:
    """Options left unset take the model setting of ``--config``."""
    cfg = resolve_config(args.config)
    model, (height, width) = cfg.model, cfg.data.image_size
    args.arch = args.arch or model.arch
    args.stride = model.stride if args.stride is None else args.stride
    args.image_size = args.image_size or f"{height}x{width}"
    args.num_cams = (SIE_CAMERAS if model.sie else 0) if args.num_cams is None else args.num_cams


def main(argv: list[str] | None = None) -> int:
    """Measure and print the efficiency table; returns 0."""
    args = build_parser().parse_args(argv)
    from scing_core.analysis.efficiency import efficiency_table, format_table   # here: torch loads, not with --help

    _fill_from_preset(args)
    image_size = parse_image_size(args.image_size)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    if args.num_classes < 1 or args.num_cams < 0 or args.repeats < 0 or args.batch_size < 1:
        raise InputError("--num-classes and --batch-size must be >= 1, --num-cams and --repeats >= 0")
    from scing_core.device import resolve_device   # here: torch loads, not with --help

    device = resolve_device(args.device)
    rows = efficiency_table(
        methods,
        arch=args.arch,
        num_classes=args.num_classes,
        stride=args.stride,
        image_size=image_size,
        num_cams=args.num_cams,
        device=device,
        latency_repeats=args.repeats,
        batch_size=args.batch_size,
    )
    if args.json:
        settings = dict(config=args.config, arch=args.arch, num_classes=args.num_classes, num_cams=args.num_cams, stride=args.stride,
                        image_size=list(image_size), device=str(device), batch_size=args.batch_size)
        conventions = dict(macs="1 MAC = 1 multiply-add", paper_style_flops="2 FLOPs per MAC, nn.Linear/nn.Conv2d modules only")
        print_json(dict(settings=settings, conventions=conventions, rows=[dataclasses.asdict(r) for r in rows]))
        return 0
    print(f"{args.config}: {args.arch} at {image_size[0]}x{image_size[1]}, stride {args.stride}, {args.num_classes} identities, "
          f"{args.num_cams} SIE cameras; latency on {device} (batch {args.batch_size})\n")
    print(format_table(rows) + _paper_note(rows, args.arch, args.stride, image_size))
    return 0
