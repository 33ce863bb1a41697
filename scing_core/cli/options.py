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


def launcher_settings(args: argparse.Namespace, base=None):
    """The launcher the command line asks for: ``base`` (a plan's ``launcher:``) with the given flags applied."""
    from scing_core.pipeline.launchers import LauncherSettings

    base = base or LauncherSettings()
    lines = tuple(args.sbatch_lines) if args.sbatch_lines else None
    return base.replace(kind=args.launcher, parallel=args.parallel, partition=args.partition, account=args.account,
                        gpus_per_run=args.gpus_per_run, cpus_per_run=args.cpus_per_run, mem_gb=args.mem_gb,
                        time_min=args.time_min, nodes=args.nodes, sbatch_lines=lines)
