"""GUI-thread stalls of SCING Studio — at first open, on every user action, while a training started from
the window runs, and while the first-launch UMAP warm-up compiles — optionally with the CPU kept busy by
another process; and query-switch latency.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_studio.py [--demo /tmp/work/demo] [--busy]
        [--queries 3368 --gallery 15913] [--modes none,process,thread] [--clicks 20] [--each]
        [--no-cases] [--train-epochs 1] [--train-limit 150]

The window is driven offscreen through what a user does — open a workspace, switch every tab, select
each run (Training and Retrieval), click queries, compute saliency, compute the modality gap — on a
copy of the demo workspace plus one Market-sized run (a synthetic eval folder of 3,368 queries ×
15,913 gallery images written with the core's ``save_eval_artifacts`` by a child process, so this one
starts without torch as the studio does; its images are the demo's). A 10 ms QTimer heartbeat on the
GUI thread measures stalls: the longest gap between two beats, less the 10 ms, while an action and the
work it starts run (waiting with a nested event loop).

``--busy`` keeps every core loaded for the whole measurement: ``os.cpu_count()`` child processes, each a
plain Python loop at normal priority, stopped at the end (also on Ctrl-C); the report gives the 1-minute
load average seen.

Cases (benchmarks/bench_studio_cases.py; ``--no-cases`` skips them), in the first column, "studio":
"first open" — a fresh window started exactly as ``scing-studio --workspace W`` does (style sheet,
UMAP warm-up process, module preload of torch and Grad-CAM in a worker, workspace scan): the
construction and show is one stall, then the worst stall until it is settled; and "running training"
— a short real training (the demo's quick preset on the demo data, ``--train-epochs`` per stage) started
through the Training panel's launch path, during which the usual actions are repeated (rows
"training: …", the live event ticks included) until it ends (or ``--train-limit`` seconds: then Stop).

Modes, each with a fresh window, in this order: ``none`` (no warm-up), ``process`` (the studio's
warm-up: UMAP compiles in a separate niced process) and ``thread`` (the former warm-up:
``api.warm_up_umap`` in a thread of the studio); each starts with the module preload (the "startup"
line; only the first window pays the imports). Each warm-up starts from an empty numba cache (its own
NUMBA_CACHE_DIR), as at a first launch. With ``--busy`` the default modes are ``process`` (the full set
takes too long on a loaded machine). The report is one table (a * marks an action started while the
warm-up compiled), the query-switch latencies, the warm-up ratio when both thread and process ran, the
load, and a last line "worst stall: N ms (action)".
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bench_studio_cases as cases  # noqa: E402

BEAT_MS = 10
SETTLE_S = 0.3


# -- measuring --------------------------------------------------------------------------------------------
class Heartbeat:
    """A 10 ms timer on the GUI thread; ``stall()`` is the longest late beat since ``reset()`` (seconds)."""

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(BEAT_MS)
        self.timer.timeout.connect(self._beat)
        self.last, self.worst = time.perf_counter(), 0.0
        self.timer.start()

    def _beat(self) -> None:
        now = time.perf_counter()
        self.worst = max(self.worst, now - self.last - BEAT_MS / 1000)
        self.last = now

    def reset(self) -> None:
        self.last, self.worst = time.perf_counter(), 0.0

    def stall(self) -> float:
        return max(self.worst, time.perf_counter() - self.last - BEAT_MS / 1000)


def spin(seconds: float = 0.0, until=None, timeout: float = 600.0) -> None:
    """Run a nested event loop (never QTest.qWait: it holds the GIL in this PySide6)."""
    from PySide6.QtCore import QEventLoop, QTimer

    end = time.monotonic() + (timeout if until is not None else seconds)
    while time.monotonic() < end and not (until is not None and until()):
        loop = QEventLoop()
        QTimer.singleShot(20, loop.quit)
        loop.exec()


class Session:
    """One window, one warm-up mode; ``act(name, fn)`` runs an action and records its worst stall."""

    def __init__(self, window, heartbeat: Heartbeat, warm_up, verbose: bool = False) -> None:
        self.window, self.heartbeat, self.warm_up, self.verbose = window, heartbeat, warm_up, verbose
        self.stalls: dict[str, float] = {}
        self.worst_detail: dict[str, str] = {}
        self.warming: dict[str, bool] = {}

    def record(self, name: str, stall: float, detail: str = "", warming: bool = False) -> None:
        if stall >= self.stalls.get(name, -1.0):
            self.stalls[name], self.worst_detail[name] = stall, detail
        if self.verbose:
            print(f"  {name} ({detail}): {1000 * stall:.0f} ms" if detail else f"  {name}: {1000 * stall:.0f} ms", flush=True)
        self.warming[name] = self.warming.get(name, False) or warming

    def act(self, name: str, action, detail: str = "", wait_s: float = 0.0) -> None:
        """``action()``, then wait until the window's workers are done (and ``wait_s`` more), then settle."""
        SAMPLES.sample()
        self.heartbeat.reset()
        warming = self.warm_up is not None and self.warm_up.is_alive()
        action()
        spin(wait_s)
        spin(until=lambda: not self.window.busy(), timeout=120)
        spin(SETTLE_S)
        self.record(name, self.heartbeat.stall(), detail, warming)


LOAD: cases.BusyLoad | None = None   # the --busy load
SAMPLES = cases.BusyLoad(1)          # the load average, sampled at every action (the --busy load itself when on)


def drive(session: Session, workspace: Path, clicks: int) -> list[float]:
    """The user's actions; returns the query-switch latencies (seconds) on the Market-sized run."""
    window = session.window
    session.act("open workspace", lambda: window.open_workspace(workspace))
    for index in list(range(window.tabs.count())) + [0]:
        session.act("tab switches", lambda index=index: window.tabs.setCurrentIndex(index), window.tabs.tabText(index))
    runs = [row.path for row in window.workspace.rows]
    for run in runs:
        session.act("run selection", lambda run=run: window.training.select_run(run), f"Training, {run.name}")
        session.act("run selection", lambda run=run: window.retrieval.select_run(run), f"Retrieval, {run.name}")
    session.act("tab switches", lambda: window.tabs.setCurrentWidget(window.retrieval), "Retrieval")
    session.act("run selection", lambda: window.retrieval.select_run(workspace / "runs" / "market"),
                "Retrieval shown, market")
    latencies = []
    for row in range(clicks):
        def click(row=row):
            start = time.perf_counter()
            window.retrieval.table.selectRow(row)
            from PySide6.QtWidgets import QApplication
            QApplication.processEvents()   # the selection's repaint
            latencies.append(time.perf_counter() - start)
        session.act("query clicks", click)
    demo_runs = [run for run in runs if run.name != "market"]
    images = [row.path for row in window.retrieval.state.visible_rows()[:2]] if window.retrieval.state else []
    session.act("tab switches", lambda: window.tabs.setCurrentWidget(window.saliency), "Saliency")
    window.saliency.set_images(images)
    window.saliency.runs.set_checked(demo_runs)
    session.act("saliency compute", window.saliency.compute)
    session.act("tab switches", lambda: window.tabs.setCurrentWidget(window.gap), "Modality gap")
    window.gap.runs.set_checked(demo_runs)
    window.gap.split.setCurrentIndex(window.gap.split.findData("test"))
    session.act("gap compute", window.gap.compute)
    return latencies


def run_mode(mode: str, workspace: Path, empty: Path, cache_root: Path, clicks: int,
             verbose: bool = False) -> tuple[Session, list[float]]:
    from app.main_window import MainWindow

    os.environ["NUMBA_CACHE_DIR"] = str(cache_root / mode)   # a first launch: nothing compiled yet
    from scing_core.analysis.projection import configure_numba_cache

    configure_numba_cache()
    window = MainWindow(empty, warm_up_umap=False)
    window.resize(1440, 900)
    window.show()
    spin(until=lambda: not window.busy())
    heartbeat = Heartbeat()
    session = Session(window, heartbeat, None, verbose)
    if mode != "none":
        window.start_umap_warm_up(in_process_thread=mode == "thread")
        session.warm_up = window.gap.umap_thread
    session.act("startup (module preload)", window.start_preloading)   # the first imports: torch, Grad-CAM
    latencies = drive(session, workspace, clicks)
    if session.warm_up is not None and LOAD is None:
        spin(until=lambda: not session.warm_up.is_alive())   # leave nothing compiling for the next mode
    heartbeat.timer.stop()   # (with --busy the niced compile would wait for minutes: closing the window ends it)
    window.close()
    return session, latencies


def report(results: dict, load_line: str) -> None:
    columns = list(results)
    actions = list(dict.fromkeys(action for column in columns for action in results[column][0].stalls))
    print(f"{'action (max GUI stall, ms)':32s}" + "".join(f"{column:>18s}" for column in columns))
    for action in actions:
        cells = []
        for column in columns:
            session = results[column][0]
            if action not in session.stalls:
                cells.append(f"{'-':>17s} ")
                continue
            mark = "*" if session.warming.get(action) else " "
            cells.append(f"{1000 * session.stalls[action]:17.0f}{mark}")
        print(f"{action:32s}" + "".join(cells))
    print("(* = the UMAP warm-up was compiling when the action started)")
    for column in columns:
        latencies = results[column][1]
        if latencies:
            print(f"query switch ({column}): median {1000 * statistics.median(latencies):.1f} ms, "
                  f"max {1000 * max(latencies):.1f} ms over {len(latencies)} clicks (3,368 x 15,913 eval)")
    if "process" in results and "thread" in results:
        worst = {mode: max(results[mode][0].stalls.values()) for mode in ("process", "thread")}
        print(f"warm-up: worst stall in a thread {1000 * worst['thread']:.0f} ms, in a process "
              f"{1000 * worst['process']:.0f} ms; ratio {worst['thread'] / max(worst['process'], 1e-3):.2f}x")
    print(load_line)
    stall, action, column = max((session.stalls[action], action, column) for column, (session, _) in results.items()
                                for action in session.stalls)
    detail = results[column][0].worst_detail.get(action)
    print(f"worst stall: {1000 * stall:.0f} ms ({action}{', ' + detail if detail else ''}; {column})")


def run_cases(workspace: Path, root: Path, args) -> tuple[Session, list[float]]:
    """The "studio" column: the first open, then a training started from that window."""
    session = cases.first_open(workspace, root / "numba-first-open", Heartbeat, Session, spin, SETTLE_S, args.each)
    ended = cases.running_training(session, workspace, args.demo, args.train_epochs, args.train_limit, 3, spin)
    print(f"running training: {ended}", flush=True)
    session.heartbeat.timer.stop()
    session.window.close()   # stops the UMAP warm-up's process too: the next window starts from its own cache
    return session, []


def main() -> int:
    global LOAD, SAMPLES
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", type=Path, default=Path("/tmp/work/demo"))
    parser.add_argument("--queries", type=int, default=3368)
    parser.add_argument("--gallery", type=int, default=15913)
    parser.add_argument("--modes", default=None, help="default none,process,thread; with --busy: process")
    parser.add_argument("--clicks", type=int, default=20)
    parser.add_argument("--each", action="store_true", help="print every action's stall as it is measured")
    parser.add_argument("--busy", action="store_true", help="keep every core loaded by other processes meanwhile")
    parser.add_argument("--no-cases", action="store_true", help="skip the first-open and running-training cases")
    parser.add_argument("--train-epochs", type=int, default=1, help="epochs per stage of the training case")
    parser.add_argument("--train-limit", type=float, default=150, help="seconds of actions before Stop")
    parser.add_argument("--build-workspace", type=Path, help=argparse.SUPPRESS)   # the child that writes it
    args = parser.parse_args()
    if not (args.demo / "runs").is_dir() or not (args.demo / "data" / "synthped").is_dir():
        parser.error(f"--demo {args.demo} is not a demo workspace (no runs/ and data/synthped/): build one with "
                     f"`scing demo --workspace {args.demo}` or pass its folder")
    if args.build_workspace is not None:
        cases.build_workspace_here(args.demo, args.build_workspace, args.queries, args.gallery)
        return 0
    modes = [mode for mode in (args.modes or ("process" if args.busy else "none,process,thread")).split(",") if mode]
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory(prefix="bench-studio-") as tmp:
        root = Path(tmp)
        cases.ON_INTERRUPT.append(lambda: shutil.rmtree(root, ignore_errors=True))
        cases.ON_INTERRUPT.append(cases.end_child_processes)   # first: the UMAP compiler writes under root
        started = time.perf_counter()
        workspace = cases.build_workspace(Path(__file__), args.demo, root, args.queries, args.gallery)
        print(f"workspace: demo runs + a {args.queries} x {args.gallery} eval ({time.perf_counter() - started:.0f} s)")
        (root / "empty").mkdir()
        if args.busy:
            LOAD = SAMPLES = cases.BusyLoad().start()
        try:
            results = {}
            if not args.no_cases:
                started = time.perf_counter()
                results["studio"] = run_cases(workspace, root, args)
                print(f"cases: {time.perf_counter() - started:.0f} s", flush=True)
            for number, mode in enumerate(modes):
                started = time.perf_counter()
                key = mode if mode not in results else f"{mode}#{number + 1}"
                results[key] = run_mode(mode, workspace, root / "empty", root / f"numba{number}", args.clicks,
                                        args.each)
                print(f"mode {mode}: {time.perf_counter() - started:.0f} s", flush=True)
            SAMPLES.sample()
        finally:
            if LOAD is not None:
                LOAD.stop()
        report(results, cases.describe_load(LOAD, SAMPLES.loads))
    app.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
