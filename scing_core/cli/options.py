"""Options several subcommands share, defined once: ``--run-dir``, ``--checkpoint``, ``--device``, the
dataset folder ``--data-root`` (``--root`` is kept as an alias: older commands used it), ``--json``,
``-v`` and the launcher's options; and :func:`parse_args`, how a subcommand's ``main`` begins."""

from __future__ import annotations

import argparse
import json
import math
import sys

from scing_core.atomic import check_output_file
from scing_core.cli import setup_logging

DEVICE_CHOICES = "auto | cpu | cuda | cuda:N"
RUN_DIR_HELP = "a run directory written by `scing train`"
CHECKPOINT_HELP = ("selected | best | last | stage1 | path to a .pt (default: selected, the checkpoint the run "
                   "reports)")


def parse_args(parser: argparse.ArgumentParser, argv: list[str] | None, output: str | None = None) -> argparse.Namespace:
    """The start of a subcommand's ``main``: parse ``argv``; refuse the output file named by option
    ``output`` (e.g. ``"out"``) before any work when it cannot be written; log at INFO (DEBUG with
    ``-v``). Errors raised afterwards reach the user as one line through ``cli.run_main``."""
    args = parser.parse_args(argv)
    if output is not None:
        check_output_file(getattr(args, output))
    setup_logging(args.verbose)
    return args


def add_run_dir(parser: argparse.ArgumentParser, help: str = RUN_DIR_HELP, many: bool = False,
                required: bool = True) -> None:
    """``--run-dir DIR``: a run directory (``args.run_dir``); with ``many``, repeatable (a list)."""
    parser.add_argument("--run-dir", action="append" if many else "store", required=required, metavar="DIR",
                        help=help)


def add_checkpoint(parser: argparse.ArgumentParser, file_help: str | None = None) -> None:
    """``--checkpoint``: which of a run's checkpoints (default ``selected``: the one the run reports), or
    a .pt path; with ``file_help``, a checkpoint file that must be given (no run to choose from)."""
    if file_help is not None:
        parser.add_argument("--checkpoint", required=True, help=file_help)
    else:
        parser.add_argument("--checkpoint", default="selected", help=CHECKPOINT_HELP)


def add_json(parser: argparse.ArgumentParser, what: str) -> None:
    """``--json``: print ``what`` (e.g. "the metrics") as JSON on stdout instead of text."""
    parser.add_argument("--json", action="store_true", help=f"print {what} as JSON on stdout")


def print_json(data) -> None:
    """What ``--json`` prints: strict JSON (a float that is not a number, e.g. a latency not measured,
    becomes ``null``: ``NaN`` is not JSON and jq and other parsers reject it)."""
    json.dump(_finite(data), sys.stdout, indent=2, allow_nan=False)
    sys.stdout.write("\n")


def _finite(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(v) for key, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def add_verbose(parser: argparse.ArgumentParser, help: str = "debug logging") -> None:
    """``-v`` / ``--verbose`` (``args.verbose``): DEBUG logging, see :func:`parse_args`."""
    parser.add_argument("-v", "--verbose", action="store_true", help=help)


def device_name(text: str) -> str:
    """argparse ``type``: a device this project can resolve (auto, cpu, mps, cuda, cuda:N)."""
    from scing_core.config.checks import DEVICE   # here: the config package (yaml) adds ~40 ms to every --help

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


def add_launcher(parser: argparse.ArgumentParser) -> None:
    """``--launcher`` and its options (parsed by :func:`launcher_settings`)."""
    group = parser.add_argument_group("launcher", "where the runs train (submitit; docs/cluster.md)")
    group.add_argument("--launcher", choices=("inline", "local", "slurm"),
                       help="inline: in this process, one run after another (default); local: N processes on this "
                            "machine (--parallel); slurm: jobs on a Slurm cluster, submitted and returned at once")
    group.add_argument("--parallel", type=int, metavar="N", help="runs at once (local: processes; slurm: array %%N)")
    group.add_argument("--partition", help="slurm partition")
    group.add_argument("--account", help="slurm account")
    group.add_argument("--gpus-per-run", type=int, metavar="N", help="slurm: GPUs per node of each run (default 1)")
    group.add_argument("--cpus-per-run", type=int, metavar="N", help="slurm: CPUs per task (default 8)")
    group.add_argument("--mem-gb", type=float, metavar="GB", help="slurm: memory per node")
    group.add_argument("--time-min", type=int, metavar="MIN", help="slurm: time limit per job (default 1440)")
    group.add_argument("--nodes", type=int, metavar="N", help="slurm: nodes per run (multi-node DDP; default 1)")
    group.add_argument("--sbatch", action="append", metavar="OPTION", dest="sbatch_lines",
                       help="an extra sbatch option, e.g. --sbatch=--qos=high (repeatable)")
    group.add_argument("--threads-per-run", type=int, metavar="N", dest="threads",
                       help="CPU threads of each run (default: local: the cores shared by the runs at once; inline, "
                            "slurm: torch's default). CPU sums depend on it: equal counts give equal numbers")


def launcher_settings(args: argparse.Namespace, base=None):
    """The launcher the command line asks for: ``base`` (a plan's ``launcher:``) with the given flags applied."""
    from scing_core.pipeline.launchers import LauncherSettings   # here: ~25 ms of every `--help` that uses this module

    base = base or LauncherSettings()
    lines = tuple(args.sbatch_lines) if args.sbatch_lines else None
    return base.replace(kind=args.launcher, parallel=args.parallel, partition=args.partition, account=args.account,
                        gpus_per_run=args.gpus_per_run, cpus_per_run=args.cpus_per_run, mem_gb=args.mem_gb,
                        time_min=args.time_min, nodes=args.nodes, sbatch_lines=lines,
                        threads=args.threads)
