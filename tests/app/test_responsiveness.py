"""The first-launch UMAP warm-up keeps the studio responsive: numba compiles in a separate, niced process
(a thread of the studio would hold the GIL and freeze the window); benchmarks/bench_studio.py measures
the stalls. No timing here."""

from __future__ import annotations

import os
import threading

import pytest


def _projection_children(window):
    executor = window.gap.projector._executor
    return list((getattr(executor, "_processes", None) or {}).values()) if executor is not None else []


def test_the_default_umap_warm_up_compiles_in_a_separate_process(tiny_workspace, qtbot):
    from app.main_window import MainWindow

    window = MainWindow(tiny_workspace)   # warm_up_umap defaults to True, as at a first launch
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.workspace.scans_done > 0, timeout=20000)
    assert not any(t.name == "umap-warm-up" and t.is_alive() for t in threading.enumerate())
    children = _projection_children(window)
    assert children and all(child.pid != os.getpid() for child in children)
    handle = window.gap.umap_thread
    assert handle is window.gap.projector.warm_up
    if handle.is_alive():
        assert "compiling in the background" in window.gap.umap_status.text()
    qtbot.waitUntil(lambda: not window.preloading.busy, timeout=60000)
    window.close()
    from multiprocessing.connection import wait

    # closing the window stops the compiler process (its sentinel closes when it exits; is_alive() cannot
    # tell once the pool's own thread has reaped the pid)
    assert len(wait([child.sentinel for child in children], timeout=10)) == len(children)


@pytest.mark.skipif(not hasattr(os, "nice"), reason="no process priorities on this platform")
def test_the_projection_process_runs_at_a_lower_priority(tiny_workspace, qtbot):
    from app.main_window import MainWindow

    window = MainWindow(tiny_workspace)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: bool(_projection_children(window)), timeout=20000)
    child = _projection_children(window)[0]
    qtbot.waitUntil(lambda: os.getpriority(os.PRIO_PROCESS, child.pid) > os.getpriority(os.PRIO_PROCESS, 0),
                    timeout=20000)
    qtbot.waitUntil(lambda: not window.preloading.busy, timeout=60000)
    window.close()
