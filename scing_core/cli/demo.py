"""``scing demo``: build the embedded demo workspace (SynthPed + SynthCLIP + 3 runs + figures + report).

    scing demo                          # the full demo into ~/.local/share/scing-studio/demo
    scing demo --quick --workspace /tmp/demo
"""

from __future__ import annotations

import argparse
import logging
import shutil
import signal
import sys
import threading
import time

from tqdm import tqdm

from scing_core.cli import setup_logging
from scing_core.demo import DemoProgress, PlannedStep, StopFlag

DESCRIPTION = """\
Build the demo workspace the studio opens on, with one progress bar and an ETA:
  1. SynthPed and SynthPed-Occluded (same seed: the same people and files, plus occluders)
  2. SynthCLIP, a small CLIP pre-trained on SynthPed captions of other people (cached)
  3. three runs (runs/clipreid, runs/cocoop, runs/scing), both stages, trained on SynthPed-Occluded
     with SynthCLIP weights and evaluated on the holistic and the occluded test splits
  4. the analysis figures (figures/) and report.md

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
    parser.add_argument("--plain", action="store_true", help="plain progress lines even on a terminal")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what each step does")
    return parser


def _clock(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class ConsoleDemoProgress(DemoProgress):
    """One bar for the whole build (tqdm on a terminal, plain lines otherwise), its ETA from the
    steps' expected durations, corrected by the pace observed so far."""

    PLAIN_EVERY_S = 5.0   # plain mode: at most one progress line per 5 s
    BAR_EVERY_S = 0.2     # terminal: at most 5 redraws per second

    def __init__(self, stream=None, plain: bool | None = None, label: str = "demo") -> None:
        self.label = label         # "demo" or "study": names the build in its lines
        self.stream = stream or sys.stderr
        self.plain = plain if plain is not None else not self.stream.isatty()
        self.total = 0.0
        self.done = 0.0            # expected seconds of the finished steps
        self.current = 0.0         # expected seconds of the running step
        self.fraction = 0.0
        self.names: list[str] = []
        self.started = time.time()
        self._bar = None
        self._last_line = 0.0
        self._last_draw = 0.0

    def plan(self, steps: list[PlannedStep]) -> None:
        self.names = [s.name for s in steps]
        self.total = sum(s.expected_seconds for s in steps if s.todo)
        todo = [s for s in steps if s.todo]
        self._line(f"{self.label}: {len(todo)} of {len(steps)} steps to build, expected about {_clock(self.total)}")
        if not self.plain and todo:
            size = shutil.get_terminal_size((100, 20))  # a pty that reports 0x0 falls back to 100x20
            self._bar = tqdm(total=round(self.total, 1), file=self.stream, unit="s", ncols=min(size.columns, 140),
                             nrows=size.lines,
                             bar_format="{desc} {percentage:3.0f}%|{bar}| {elapsed}<{remaining}")

    def step_started(self, name, title, expected_seconds) -> None:
        self.current, self.fraction = expected_seconds, 0.0
        self._line(f"[{self._index(name)}] {title} ...")
        self._show(name, "")

    def step_progress(self, name, fraction, detail="") -> None:
        self.fraction = fraction
        self._show(name, detail)

    def step_finished(self, name, action, seconds, note="") -> None:
        if action in ("ran", "resumed", "stopped", "failed"):
            self.done += self.current
            self.current = self.fraction = 0.0
        text = f"[{self._index(name)}] {name}: {action}" + (f" in {_clock(seconds)}" if seconds else "")
        self._line(text + (f" ({note})" if note and action != "skipped" else ""))
        self._show(name, "")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    # ---------------------------------------------------------------------------------- helpers
    def _index(self, name: str) -> str:
        return f"{self.names.index(name) + 1}/{len(self.names)}" if name in self.names else "?"

    def progressed(self) -> float:
        return self.done + self.fraction * self.current

    def eta(self) -> float:
        """Remaining expected seconds, scaled by the pace seen so far (after a little progress)."""
        progressed, remaining = self.progressed(), max(self.total - self.progressed(), 0.0)
        elapsed = time.time() - self.started
        if progressed > 0.05 * self.total and elapsed > 5:
            return remaining * elapsed / progressed
        return remaining

    def _show(self, name: str, detail: str) -> None:
        if self._bar is not None:
            now = time.time()
            if now - self._last_draw < self.BAR_EVERY_S and detail:
                return
            self._last_draw = now
            self._bar.set_description_str(f"[{self._index(name)}] {name} {detail}".rstrip(), refresh=False)
            self._bar.n = min(round(self.progressed(), 1), self._bar.total)
            self._bar.refresh()
        elif self.plain and detail and time.time() - self._last_line >= self.PLAIN_EVERY_S:
            self._line(f"  {name}: {detail}  ({100 * self.fraction:.0f}%, {self.label} ETA {_clock(self.eta())})")

    def _line(self, text: str) -> None:
        self._last_line = time.time()
        if self._bar is not None:
            self._bar.write(text, file=self.stream)
        else:
            print(text, file=self.stream, flush=True)


def _print_plan(workspace, quick: bool, seed: int) -> None:
    from scing_core.demo import plan_demo

    for step in plan_demo(workspace, quick, seed):
        state = f"to do (~{_clock(step.expected_seconds)})" if step.todo else "done or unavailable"
        print(f"  {step.name:24s} {step.title:32s} {state}")


def _print_summary(result) -> None:
    from scing_core.demo.report import TITLES, pct, run_metrics
    from scing_core.demo.workspace import SPLITS, DemoWorkspace

    metrics = run_metrics(DemoWorkspace.at(result.workspace))
    print(f"\n{'method':10s} " + " ".join(f"{s + ' mAP':>13s} {s + ' R1':>12s}" for s in SPLITS))
    for method, per_split in metrics.items():
        cells = " ".join(f"{pct(per_split.get(s, {}).get('mAP')):>13s} {pct(per_split.get(s, {}).get('R1')):>12s}"
                         for s in SPLITS)
        print(f"{TITLES[method]:10s} {cells}")
    print(f"\nreport: {result.report}   ({_clock(result.seconds)})")


def install_stop_handlers(stop: StopFlag) -> dict:
    def handler(signum, frame):
        if stop.requested:  # a second Ctrl-C aborts at once
            raise KeyboardInterrupt
        stop.request()
        print("\nstopping after the current step (a checkpoint is kept; run the same command to continue) ...",
              file=sys.stderr, flush=True)

    if threading.current_thread() is not threading.main_thread():
        return {}  # signal handlers can only be set from the main thread
    return {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``scing demo``; 0 when the workspace is complete, 130 when stopped early."""
    args = build_parser().parse_args(argv)
    if args.verbose:
        setup_logging(True)
    else:  # one progress view: the analysis modules' per-image warnings are in the figures' JSON
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
        logging.getLogger("scing_core.analysis").setLevel(logging.ERROR)
    from scing_core.demo import DemoWorkspace, build_demo

    workspace = DemoWorkspace.at(args.workspace).root
    if args.plan:
        print(f"demo workspace {workspace} ({'quick' if args.quick else 'full'}, seed {args.seed}):")
        _print_plan(workspace, args.quick, args.seed)
        return 0
    print(f"demo workspace: {workspace}", file=sys.stderr)
    stop = StopFlag()
    previous = install_stop_handlers(stop)
    progress = ConsoleDemoProgress(plain=True if args.plain else None)
    try:
        result = build_demo(workspace, quick=args.quick, seed=args.seed, progress=progress, stop=stop)
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
