"""GUI-thread stalls of SCING Studio while the first-launch UMAP warm-up runs, and query-switch latency.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_studio.py [--demo /tmp/work/demo]
        [--queries 3368 --gallery 15913] [--modes none,process,thread] [--clicks 20] [--each]

The window is driven offscreen through what a user does — open a workspace, switch every tab, select
each run (Training and Retrieval), click queries, compute saliency, compute the modality gap — on a
copy of the demo workspace plus one Market-sized run (a synthetic eval folder of 3,368 queries ×
15,913 gallery images written with the core's ``save_eval_artifacts``; its images are the demo's).
A 10 ms QTimer heartbeat on the GUI thread measures stalls: the longest gap between two beats, less
the 10 ms, while an action and the work it starts run (waiting with a nested event loop).

Each window starts as the studio does: the UMAP warm-up and the preload of the heavy modules (torch,
Grad-CAM: imported in a worker, an import holds the GIL) — the "startup" line; only the first mode
pays the imports. Modes, each with a fresh window, in this order: ``none`` (no warm-up; it takes the
first-import costs, so the next two compare like with like), ``process`` (the studio's warm-up: UMAP
compiles in a separate niced process) and ``thread`` (the former warm-up: ``api.warm_up_umap`` in a
thread of the studio). Each warm-up starts from an empty numba cache (its own NUMBA_CACHE_DIR), as at
a first launch. The last line is the ratio of the worst stall with the in-process thread to the worst
stall with the process.
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

import numpy as np  # noqa: E402

BEAT_MS = 10
SETTLE_S = 0.3


# -- the workspace ----------------------------------------------------------------------------------------
def market_eval(out_dir: Path, images: list[str], num_query: int, num_gallery: int, ids: int = 751) -> None:
    """A Market-sized eval folder: random 128-D features around one centre per identity."""
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


def build_workspace(demo: Path, root: Path, num_query: int, num_gallery: int) -> Path:
    workspace = root / "demo"
    shutil.copytree(demo / "runs", workspace / "runs", ignore=shutil.ignore_patterns("cache"))
    market = workspace / "runs" / "market"
    market.mkdir()
    for name in ("config.yaml", "events.jsonl", "metrics.json"):
        shutil.copy2(workspace / "runs" / "scing" / name, market / name)
    images = sorted(str(p) for p in (demo / "data" / "synthped").glob("bounding_box_test/*.jpg"))
    market_eval(market / "eval" / "market1501", images, num_query, num_gallery)
    return workspace


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
        self.warming: dict[str, bool] = {}

    def act(self, name: str, action, detail: str = "") -> None:
        self.heartbeat.reset()
        warming = self.warm_up is not None and self.warm_up.is_alive()
        action()
        spin(until=lambda: not self.window.busy())
        spin(SETTLE_S)
        stall = self.heartbeat.stall()
        self.stalls[name] = max(self.stalls.get(name, 0.0), stall)
        if self.verbose:
            print(f"  {name} ({detail}): {1000 * stall:.0f} ms" if detail else f"  {name}: {1000 * stall:.0f} ms", flush=True)
        self.warming[name] = self.warming.get(name, False) or warming


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
    if session.warm_up is not None:
        spin(until=lambda: not session.warm_up.is_alive())   # leave nothing compiling for the next mode
    heartbeat.timer.stop()
    window.close()
    return session, latencies


def report(results: dict) -> None:
    actions = list(next(iter(results.values()))[0].stalls)
    modes = list(results)
    print(f"{'action (max GUI stall, ms)':28s}" + "".join(f"{mode:>18s}" for mode in modes))
    for action in actions:
        cells = []
        for mode in modes:
            session = results[mode][0]
            mark = "*" if session.warming.get(action) else " "
            cells.append(f"{1000 * session.stalls[action]:17.0f}{mark}")
        print(f"{action:28s}" + "".join(cells))
    print("(* = the UMAP warm-up was compiling when the action started)")
    for mode in modes:
        latencies = results[mode][1]
        if latencies:
            print(f"query switch ({mode}): median {1000 * statistics.median(latencies):.1f} ms, "
                  f"max {1000 * max(latencies):.1f} ms over {len(latencies)} clicks (3,368 x 15,913 eval)")
    if "process" in results and "thread" in results:
        worst = {mode: max(results[mode][0].stalls.values()) for mode in ("process", "thread")}
        print(f"worst stall: warm-up in a thread {1000 * worst['thread']:.0f} ms, in a process "
              f"{1000 * worst['process']:.0f} ms; ratio {worst['thread'] / max(worst['process'], 1e-3):.2f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", type=Path, default=Path("/tmp/work/demo"))
    parser.add_argument("--queries", type=int, default=3368)
    parser.add_argument("--gallery", type=int, default=15913)
    parser.add_argument("--modes", default="none,process,thread")
    parser.add_argument("--clicks", type=int, default=20)
    parser.add_argument("--each", action="store_true", help="print every action's stall as it is measured")
    args = parser.parse_args()
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory(prefix="bench-studio-") as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        workspace = build_workspace(args.demo, root, args.queries, args.gallery)
        print(f"workspace: demo runs + a {args.queries} x {args.gallery} eval ({time.perf_counter() - started:.0f} s)")
        (root / "empty").mkdir()
        results = {}
        for number, mode in enumerate(args.modes.split(",")):
            started = time.perf_counter()
            key = mode if mode not in results else f"{mode}#{number + 1}"
            results[key] = run_mode(mode, workspace, root / "empty", root / f"numba{number}", args.clicks,
                                    args.each)
            print(f"mode {mode}: {time.perf_counter() - started:.0f} s", flush=True)
        report(results)
    app.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
