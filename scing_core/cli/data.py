"""``scing data``: list the dataset loaders, summarise a dataset folder, check its images.

    scing data list [--layouts]
    scing data info NAME --root DIR [--set KEY=VALUE ...]
    scing data check NAME --root DIR [--set KEY=VALUE ...]

``check`` exits with status 1 when any image is unreadable; a bad name or folder exits with 2.
"""

from __future__ import annotations

import argparse
import inspect
import sys
import textwrap

import yaml

from scing_core.cli.options import add_data_root, add_verbose, parse_args
from scing_core.data.datasets import DATASETS, list_datasets, load_dataset
from scing_core.data.integrity import dataset_image_paths, find_unreadable
from scing_core.data.types import ReIDDataset
from scing_core.errors import InputError

DESCRIPTION = """\
Inspect benchmark folders. NAME is a registered dataset (`scing data list`); --root is the
dataset's own folder or a parent holding it under one of its usual folder names (for example
--root ~/data finds ~/data/Market-1501-v15.09.15 or ~/data/market1501/Market-1501-v15.09.15).
Image names are parsed from the file name only; pid -1 is junk (dropped), pid 0 in a Market-style
gallery is a distractor, camera ids are reported 0-based, train ids are relabelled 0..N-1."""


def layouts_text() -> str:
    """The folder layout of every registered dataset (from the loaders' docstrings)."""
    blocks = []
    for name in list_datasets():
        doc = inspect.getdoc(DATASETS.get(name)) or "(no description)"
        blocks.append(f"  {name}\n" + textwrap.indent(doc, "      "))
    return "folder layouts:\n" + "\n".join(blocks)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scing data",
        description=DESCRIPTION,
        epilog=layouts_text(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_verbose(parser)
    commands = parser.add_subparsers(dest="command", metavar="{list,info,check}", required=True)
    listing = commands.add_parser("list", help="registered dataset names")
    listing.add_argument("--layouts", action="store_true", help="also print each dataset's folder layout")
    for name, summary in (
        ("info", "per-split table: ids, images, cameras"),
        ("check", "open every image with PIL; list unreadable files (exit status 1 if any)"),
    ):
        sub = commands.add_parser(name, help=summary, description=summary, epilog=layouts_text(),
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        sub.add_argument("name", metavar="NAME", help="dataset name (see `scing data list`)")
        add_data_root(sub, "dataset folder, or a parent holding it", required=True)
        sub.add_argument("--set", dest="options", action="append", default=[], metavar="KEY=VALUE",
                         help="loader option, e.g. --set use_val=false for msmt17 (repeatable)")
    return parser


def parse_options(name: str, pairs: list[str]) -> dict:
    """``['use_val=false']`` -> ``{'use_val': False}``, checked against the loader's signature."""
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--set expects KEY=VALUE, got '{pair}'")
        options[key.strip()] = yaml.safe_load(value) if value.strip() else ""
    loader = DATASETS.get(name)
    try:
        inspect.signature(loader).bind("root", **options)
    except TypeError:
        accepted = [p for p in list(inspect.signature(loader).parameters)[1:] if p not in ("args", "kwargs")]
        raise InputError(
            f"dataset '{name}' does not take option(s) {', '.join(sorted(options))}; "
            f"it accepts: {', '.join(accepted) or 'no options'}"
        ) from None
    return options


def format_table(dataset: ReIDDataset) -> str:
    rows = [("split", "ids", "images", "cameras")] + [tuple(map(str, row)) for row in dataset.summary()]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join(
        row[0].ljust(widths[0]) + "".join("  " + cell.rjust(w) for cell, w in zip(row[1:], widths[1:])) for row in rows
    )


def run_info(dataset: ReIDDataset) -> int:
    print(f"{dataset.name}: {dataset.root}")
    print(format_table(dataset))
    pids = dataset.num_train_pids
    train_note = (f"{pids} (labels 0..{pids - 1} = the dataset's ids {dataset.dataset_pid('train', 0)} .. "
                  f"{dataset.dataset_pid('train', pids - 1)})" if dataset.train else "none (test-only dataset)")
    cameras = "" if dataset.real_cameras else " (image kinds, not cameras: no SIE)"
    print(f"train ids: {train_note}; cameras: {dataset.num_cams}{cameras}")
    for key, value in sorted(dataset.extras.items()):
        if key not in ("train_pids", "test_pids"):
            print(f"{key}: {value}")
    return 0


def run_check(dataset: ReIDDataset) -> int:
    paths = dataset_image_paths(dataset)
    live = sys.stderr.isatty()  # a terminal gets one updating line; logs get a line per 10 %
    step = max(1, len(paths) // (100 if live else 10))

    def progress(done: int, total: int) -> None:
        if done % step == 0 or done == total:
            end = ("\n" if done == total else "\r") if live else "\n"
            print(f"checked {done}/{total} images", end=end, file=sys.stderr, flush=True)

    problems = find_unreadable(paths, progress)
    for path, reason in problems:
        print(f"unreadable: {path} ({reason})")
    print(f"{dataset.name}: {len(paths)} images checked, {len(problems)} unreadable")
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``scing data``; returns the exit status."""
    args = parse_args(build_parser(), argv)
    if args.command == "list":
        if args.layouts:
            print(layouts_text())
        else:
            print("\n".join(list_datasets()))
        return 0
    options = parse_options(args.name, args.options)
    dataset = load_dataset(args.name, args.data_root, **options)
    return run_info(dataset) if args.command == "info" else run_check(dataset)
