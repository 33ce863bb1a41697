"""The parts of benchmarks/bench_studio.py beyond the window's actions: the ``--busy`` CPU load, the
Market-sized workspace (built in a child process, so the benchmark itself starts without torch, as the
studio does), the "first open" case and the "running training" case."""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

# one busy process per core: a plain Python loop at normal priority that ends with its parent
BUSY_LOOP = ("import os\nparent = os.getppid()\nwhile os.getppid() == parent:\n"
             "    for _ in range(200000):\n        pass\n")
TRAINING_PRESET = "synthped/scing/demo_quick"
ON_INTERRUPT: list = []   # what Ctrl-C must also undo: the training process, the temporary workspace


class BusyLoad:
    """``os.cpu_count()`` child processes, each a plain CPU loop at normal nice, for the whole measurement;
    ``stop()`` ends them (also at exit, on Ctrl-C, and by themselves when this process is gone)."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.processes: list[subprocess.Popen] = []
        self.loads: list[float] = []

    def start(self) -> "BusyLoad":
        for _ in range(self.workers):
            self.processes.append(subprocess.Popen([sys.executable, "-c", BUSY_LOOP], stdin=subprocess.DEVNULL))
        atexit.register(self.stop)
        previous = signal.getsignal(signal.SIGINT)

        def interrupted(signum, frame):   # a slot swallows KeyboardInterrupt: stop the load, then leave
            self.stop()
            signal.signal(signal.SIGINT, previous)
            for undo in reversed(ON_INTERRUPT):
                try:
                    undo()
                except Exception:
                    pass
            os._exit(130)
        signal.signal(signal.SIGINT, interrupted)
        return self

    def sample(self) -> None:
        if hasattr(os, "getloadavg"):
            self.loads.append(os.getloadavg()[0])

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes = []


def end_child_processes() -> None:
    """Ctrl-C: end the multiprocessing children (the UMAP warm-up's compiler) and wait for them."""
    import multiprocessing

    children = multiprocessing.active_children()
    for child in children:
        child.kill()
    for child in children:
        child.join(5)


def describe_load(busy: BusyLoad | None, loads: list[float]) -> str:
    """One line: what loaded the CPU and the 1-minute load average seen while measuring."""
    cores = os.cpu_count() or 1
    seen = (f"load average (1 min) seen {min(loads):.1f}–{max(loads):.1f}, mean {sum(loads) / len(loads):.1f}"
            if loads else "load average not available")
    what = f"--busy: {busy.workers} busy-loop processes" if busy is not None else "no --busy load"
    return f"{what} on {cores} cores; {seen}"


# -- the workspace ----------------------------------------------------------------------------------------
def market_eval(out_dir: Path, images: list[str], num_query: int, num_gallery: int, ids: int = 751) -> None:
    """A Market-sized eval folder: random 128-D features around one centre per identity."""
    import numpy as np
    import torch

    from scing_core.evaluation import compute_distance, evaluate_rank
    from scing_core.evaluation.artifacts import save_eval_artifacts
    from scing_core.evaluation.features import FeatureSet

    rng = np.random.default_rng(0)
    centres = rng.normal(size=(ids, 128)).astype(np.float32)
    sets = []
    for count in (num_query, num_gallery):
        pids, camids = rng.integers(1, ids, count), rng.integers(0, 6, count)
        features = centres[pids] + 1.5 * rng.normal(size=(count, 128)).astype(np.float32)
        sets.append(FeatureSet(torch.from_numpy(features), pids, camids, [images[i % len(images)] for i in range(count)]))
    query, gallery = sets
    distmat = compute_distance(query.features, gallery.features).numpy()
    result = evaluate_rank(distmat, query.pids, gallery.pids, query.camids, gallery.camids)
    save_eval_artifacts(out_dir, query, gallery, distmat, result, topk=100)


def build_workspace_here(demo: Path, root: Path, num_query: int, num_gallery: int) -> Path:
    workspace = root / "demo"
    shutil.copytree(demo / "runs", workspace / "runs", ignore=shutil.ignore_patterns("cache", "train.lock"))
    market = workspace / "runs" / "market"
    market.mkdir()
    for name in ("config.yaml", "events.jsonl", "metrics.json"):
        if (workspace / "runs" / "scing" / name).is_file():
            shutil.copy2(workspace / "runs" / "scing" / name, market / name)
    images = sorted(str(p) for p in (demo / "data" / "synthped").glob("bounding_box_test/*.jpg"))
    market_eval(market / "eval" / "market1501", images, num_query, num_gallery)
    return workspace


def build_workspace(script: Path, demo: Path, root: Path, num_query: int, num_gallery: int) -> Path:
    """The workspace, written by a child process: this process must not import torch before the first open."""
    subprocess.run([sys.executable, str(script), "--build-workspace", str(root), "--demo", str(demo),
                    "--queries", str(num_query), "--gallery", str(num_gallery)], check=True)
    return root / "demo"


class WarmUpOf:
    """The window's UMAP warm-up, asked only once the window is built (asking for ``window.gap`` earlier
    would build every panel at once, which the first open must not be made to do)."""

    def __init__(self, window) -> None:
        self.window = window

    def is_alive(self) -> bool:
        return bool(self.window.ready) and self.window.gap.umap_thread.is_alive()


# -- first open -------------------------------------------------------------------------------------------
def first_open(workspace: Path, numba_cache: Path, heartbeat_type, session_type, spin, settle_s: float,
               verbose: bool = False):
    """A fresh window started exactly as ``scing-studio --workspace W`` does (app/__main__.py): the style
    sheet, ``MainWindow(W, warm_up_umap=True)`` (UMAP warm-up process, module preload, workspace scan),
    ``show()``. Two stalls: the construction and show (one blocking call), then the worst stall from the
    shown window until it is settled (no scan, preload or thumbnail work left)."""
    from PySide6.QtWidgets import QApplication

    os.environ["NUMBA_CACHE_DIR"] = str(numba_cache)   # a first launch: nothing compiled yet
    started = time.perf_counter()
    from app.services.core_client import resources_dir

    style_sheet = resources_dir() / "styles" / "studio.qss"
    if style_sheet.is_file():
        QApplication.instance().setStyleSheet(style_sheet.read_text(encoding="utf-8"))
    from app.main_window import MainWindow
    imported = time.perf_counter() - started
    heartbeat = heartbeat_type()
    started = time.perf_counter()
    window = MainWindow(workspace, warm_up_umap=True)
    window.resize(1440, 900)
    window.show()
    constructed = time.perf_counter() - started
    session = session_type(window, heartbeat, WarmUpOf(window), verbose)
    session.record("first open: construct + show", constructed, f"app modules imported before: {imported:.2f} s")
    session.act("first open: until settled", lambda: None)
    if verbose:
        print(f"  (first open settled {time.perf_counter() - started:.1f} s after construction began)", flush=True)
    return session


# -- a running training -----------------------------------------------------------------------------------
def training_request(workspace: Path, demo: Path, epochs: int):
    """The demo's quick preset on the demo data, cut to ``epochs`` epochs per stage (overrides)."""
    from app.state.launch import LaunchRequest

    overrides = [f"data.root={demo / 'data' / 'synthped'}", f"stage1.epochs={epochs}", f"stage2.epochs={epochs}",
                 "stage2.milestones=[]", f"data.test_datasets=[synthped@{demo / 'data' / 'synthped'}]"]
    weights = demo / "synthclip" / "synthclip-s.pt"
    if weights.is_file():
        overrides.append(f"model.pretrained={weights}")
    return LaunchRequest(TRAINING_PRESET, workspace / "runs" / "bench-training", tuple(overrides))


def running_training(session, workspace: Path, demo: Path, epochs: int, limit_s: float, clicks: int, spin) -> str:
    """Start a short real training from the Training panel (its launch path: ``scing train`` in a QProcess
    followed through events.jsonl) and, while it runs, do what a user does — watch its live curves, switch
    tabs, select runs in Training and Retrieval, click queries — recording every stall; then its end.
    Returns how the run ended."""
    window = session.window
    training = window.training
    request = training_request(workspace, demo, epochs)
    session.act("training: start", lambda: training.launch(request))
    job = training.jobs[request.run_dir]
    kill = job.process.process.kill   # Ctrl-C leaves no training behind
    ON_INTERRUPT.append(kill)
    session.act("training: tab switches", lambda: window.tabs.setCurrentWidget(training), "Training (running)")
    deadline = time.monotonic() + limit_s
    runs = [row.path for row in window.workspace.rows if row.path != request.run_dir]
    rounds = 0
    while job.is_running() and time.monotonic() < deadline:
        rounds += 1
        session.act("training: live event ticks", lambda: training.select_run(request.run_dir),
                    "Training, the running run", wait_s=2.0)
        for index in range(window.tabs.count()):
            session.act("training: tab switches", lambda index=index: window.tabs.setCurrentIndex(index),
                        window.tabs.tabText(index))
        session.act("training: tab switches", lambda: window.tabs.setCurrentWidget(training), "Training")
        for run in runs[:3] + [request.run_dir]:
            session.act("training: run selection", lambda run=run: training.select_run(run), f"Training, {run.name}")
        session.act("training: tab switches", lambda: window.tabs.setCurrentWidget(window.retrieval), "Retrieval")
        for run in runs:
            session.act("training: run selection", lambda run=run: window.retrieval.select_run(run),
                        f"Retrieval, {run.name}")
        for row in range(clicks):
            session.act("training: query clicks", lambda row=row: window.retrieval.table.selectRow(row))
        session.act("training: tab switches", lambda: window.tabs.setCurrentWidget(training), "Training")
    if job.is_running():
        training.select_run(request.run_dir)
        session.act("training: stop (checkpoint)", training.stop_selected)
    session.act("training: run ends", lambda: spin(until=lambda: not job.is_running(), timeout=120), "until it ended",
                wait_s=2.0)
    ON_INTERRUPT.remove(kill)
    return f"{job.current_status()} after {rounds} rounds of actions"
