"""How a pipeline (``scing demo``, ``scing study``) shows on the console: one bar for the whole build
with an ETA, and the Ctrl-C / SIGTERM handling that stops after the current step."""

from __future__ import annotations

import shutil
import signal
import sys
import threading
import time

from tqdm import tqdm

from scing_core.pipeline import PipelineProgress, PlannedStep, StopFlag


def clock(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class ConsolePipelineProgress(PipelineProgress):
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
        self._line(f"{self.label}: {len(todo)} of {len(steps)} steps to build, expected about {clock(self.total)}")
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
        text = f"[{self._index(name)}] {name}: {action}" + (f" in {clock(seconds)}" if seconds else "")
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
            self._line(f"  {name}: {detail}  ({100 * self.fraction:.0f}%, {self.label} ETA {clock(self.eta())})")

    def _line(self, text: str) -> None:
        self._last_line = time.time()
        if self._bar is not None:
            self._bar.write(text, file=self.stream)
        else:
            print(text, file=self.stream, flush=True)



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
