"""Options several subcommands share, defined once: ``--device`` and the dataset folder
``--data-root`` (``--root`` is kept as an alias: older commands used it)."""

from __future__ import annotations

import argparse

from scing_core.config.checks import DEVICE

DEVICE_CHOICES = "auto | cpu | cuda | cuda:N"


def device_name(text: str) -> str:
    """argparse ``type``: a device this project can resolve (auto, cpu, mps, cuda, cuda:N)."""
    if not DEVICE.match(text):
        raise argparse.ArgumentTypeError(f"'{text}' is not a device; use {DEVICE_CHOICES}")
    return text


def add_device(parser: argparse.ArgumentParser, what: str = "") -> None:
    """``--device`` (default ``auto``: CUDA when available)."""
    parser.add_argument("--device", default="auto", type=device_name, metavar="DEVICE",
                        help=f"{DEVICE_CHOICES} (default: auto){what}")


def add_data_root(parser: argparse.ArgumentParser, help: str, required: bool = False) -> None:
    """``--data-root DIR`` (alias ``--root``), stored as ``args.data_root``."""
    parser.add_argument("--data-root", "--root", dest="data_root", metavar="DIR", required=required, help=help)
