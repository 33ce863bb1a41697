"""The ``scing`` command: one module per subcommand, each exposing ``main(argv) -> int``.

The CLI owns the console: core modules log through :mod:`logging`; user errors
(:class:`scing_core.errors.ScingError`) are printed as one line and exit with status 2.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import sys

# Idle OpenMP threads sleep instead of spinning: on a shared or busy CPU, spinning workers slowed
# small torch steps 5-60x (measured on the 2-core dev machine). Must be set before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from scing_core import __version__
from scing_core.errors import ScingError
from scing_core.registry import suggest

# subcommand -> (module, one-line summary). A subcommand is offered once its module exists.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "data": ("scing_core.cli.data", "inspect and check dataset folders"),
    "synth": ("scing_core.cli.synth", "write a SynthPed dataset (procedural pedestrians, Market-1501 layout)"),
    "synthclip": ("scing_core.cli.synthclip", "pre-train the tiny SynthCLIP model on SynthPed captions"),
    "train": ("scing_core.cli.train", "two-stage training of clipreid / cocoop / scing into a run directory"),
    "eval": ("scing_core.cli.evaluate", "evaluate a run's checkpoint and write eval artefacts"),
    "extract": ("scing_core.cli.extract", "embed a folder of person crops with a checkpoint"),
    "demo": ("scing_core.cli.demo", "build the embedded demo workspace (SynthPed + SynthCLIP + 3 runs)"),
    "study": ("scing_core.cli.study", "a plan's rows x seeds with paired statistics (e.g. the paper's Table 3)"),
    "cam": ("scing_core.cli.cam", "Grad-CAM saliency grid across runs"),
    "gap": ("scing_core.cli.gap", "UMAP / PCA modality-gap figure and metrics"),
    "robustness": ("scing_core.cli.robustness", "mAP / R1 under increasing synthetic occlusion"),
    "figures": ("scing_core.cli.figures", "distance histograms and ROC from a run's eval artefacts"),
    "ranking": ("scing_core.cli.ranking", "ranked gallery lists of chosen or the worst queries, as a paper figure"),
    "efficiency": ("scing_core.cli.efficiency", "parameters, FLOPs and latency per method (paper Table 4)"),
}


def available_subcommands() -> dict[str, tuple[str, str]]:
    return {name: v for name, v in SUBCOMMANDS.items() if importlib.util.find_spec(v[0]) is not None}


def _usage(commands: dict[str, tuple[str, str]]) -> str:
    width = max(len(n) for n in commands) if commands else 0
    lines = ["usage: scing <command> [options]   (scing <command> --help for details)", "", "commands:"]
    lines += [f"  {name.ljust(width)}  {summary}" for name, (_, summary) in commands.items()]
    return "\n".join(lines)


def setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = available_subcommands()
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage(commands))
        return 0
    if argv[0] == "--version":
        print(__version__)
        return 0
    name, rest = argv[0], argv[1:]
    if name not in commands:
        print(f"scing: unknown command '{name}'.{suggest(name, list(commands))} Run `scing --help` for the list.", file=sys.stderr)
        return 2
    module = importlib.import_module(commands[name][0])
    return run_main(module.main, rest)


def run_main(entry, argv: list[str]) -> int:
    """Call a subcommand's ``main`` and turn user errors into one line on stderr."""
    try:
        return int(entry(argv) or 0)
    except ScingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader of our output went away (`scing gap --json | head`): stop quietly, as Unix tools do;
        # stdout goes to devnull so that the interpreter's final flush does not raise again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
