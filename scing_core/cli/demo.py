"""``scing demo``: build the embedded demo workspace (SynthPed + SynthCLIP + 3 runs + figures + report).

    scing demo                          # the full demo into ~/.local/share/scing-studio/demo
    scing demo --quick --workspace /tmp/demo
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from scing_core.cli import setup_logging
from scing_core.cli.options import add_verbose
from scing_core.cli.pipeline_view import ConsolePipelineProgress, clock, install_stop_handlers
from scing_core.pipeline import StopFlag
from scing_core.pipeline.synthetic import SPLITS

DESCRIPTION = """\
Build the demo workspace the studio opens on, with one progress bar and an ETA:
  1. SynthPed and SynthPed-Occluded (same seed: the same people and files, plus occluders)
  2. SynthCLIP, a small CLIP pre-trained on SynthPed captions of other people (cached)
  3. three runs (runs/clipreid, runs/cocoop, runs/scing), both stages, trained on SynthPed-Occluded
     with SynthCLIP weights and evaluated on the holistic and the occluded test splits
  4. the analysis figures (figures/) and report.md
The independent steps of 1-2, of 3 and of 4 run at once, one process each with its share of the
CPU threads (--sequential: one after another in this process).

Re-running skips finished steps and resumes interrupted ones (an interrupted run continues from its
last checkpoint). Ctrl-C or SIGTERM stops after the current training step, with a checkpoint.
On an idle 2-core CPU the full demo takes about 3 minutes and --quick under a minute (a CPU
shared with other busy processes: far longer; OMP_NUM_THREADS=1 then helps). docs/demo-report.md
holds the latest full report."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scing demo", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", metavar="DIR",
                        help="where to build (default: $SCING_STUDIO_HOME/demo, else $XDG_DATA_HOME/scing-studio/demo, "
                             "else ~/.local/share/scing-studio/demo)")
    parser.add_argument("--quick", action="store_true", help="smaller data and fewer epochs (under a minute; the tests use it)")
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the data, SynthCLIP and the runs (default 0)")
    parser.add_argument("--plan", action="store_true", help="list the steps and what is still to do, then exit")
    parser.add_argument("--sequential", action="store_true",
                        help="one step after another in this process (default: the independent steps of each phase - "
                             "data and SynthCLIP, the three runs, the figures - at once, one process each)")
    parser.add_argument("--plain", action="store_true", help="plain progress lines even on a terminal")
    add_verbose(parser, "log what each step does")
    return parser


def _print_plan(workspace, quick: bool, seed: int) -> None:
    from scing_core.demo import plan_demo   # here: the demo package adds ~15 ms to `scing demo --help`

    for step in plan_demo(workspace, quick, seed):
        state = f"to do (~{clock(step.expected_seconds)})" if step.todo else "done or unavailable"
        print(f"  {step.name:24s} {step.title:32s} {state}")


def _print_summary(result) -> None:
    from scing_core.demo import DemoWorkspace   # here: ~15 ms of `scing demo --help`
    from scing_core.demo.report import TITLES, pct, run_metrics   # here: it loads torch (evaluation, models)

    metrics = run_metrics(DemoWorkspace.at(result.workspace))
    print(f"\n{'method':10s} " + " ".join(f"{s + ' mAP':>13s} {s + ' R1':>12s}" for s in SPLITS))
    for method, per_split in metrics.items():
        cells = " ".join(f"{pct(per_split.get(s, {}).get('mAP')):>13s} {pct(per_split.get(s, {}).get('R1')):>12s}"
                         for s in SPLITS)
        print(f"{TITLES[method]:10s} {cells}")
    print(f"\nreport: {result.report}   ({clock(result.seconds)})")


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``scing demo``; 0 when the workspace is complete, 130 when stopped early."""
    args = build_parser().parse_args(argv)
    if args.verbose:
        setup_logging(True)
    else:  # one progress view: the analysis modules' per-image warnings are in the figures' JSON
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
        logging.getLogger("scing_core.analysis").setLevel(logging.ERROR)
    from scing_core.demo import DemoWorkspace, build_demo   # here: the demo package adds ~15 ms to `scing demo --help`

    workspace = DemoWorkspace.at(args.workspace).root
    if args.plan:
        print(f"demo workspace {workspace} ({'quick' if args.quick else 'full'}, seed {args.seed}):")
        _print_plan(workspace, args.quick, args.seed)
        return 0
    print(f"demo workspace: {workspace}", file=sys.stderr)
    stop = StopFlag()
    previous = install_stop_handlers(stop)
    progress = ConsolePipelineProgress(plain=True if args.plain else None)
    try:
        result = build_demo(workspace, quick=args.quick, seed=args.seed, progress=progress, stop=stop,
                            parallel=not args.sequential)
    finally:
        progress.close()
        for sig, old in previous.items():
            signal.signal(sig, old)
    if result.stopped:
        again = ("scing demo" + (" --quick" if args.quick else "") + (f" --seed {args.seed}" if args.seed else "")
                 + f" --workspace {workspace}")
        print(f"stopped; run `{again}` to continue where it left off", file=sys.stderr)
        return 130
    _print_summary(result)
    return 0
