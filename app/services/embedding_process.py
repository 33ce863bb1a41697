"""A separate, low-priority process for the embedding projections that hold the GIL.

numba (compiling UMAP, 15–40 s on first use) and scikit-learn's t-SNE keep Python's GIL for long
stretches: run in a thread of the studio, they freeze the window for a good fraction of a second at
a time. :class:`ProjectionProcess` keeps one spawned child for the session instead: it compiles UMAP
there at start (the warm-up, niced), and later UMAP / t-SNE projections run in the same, already
compiled child. Callers block on :meth:`ProjectionProcess.project` from a worker thread (waiting
on a pipe releases the GIL); the GUI thread only polls :class:`WarmUpHandle.is_alive`.
:meth:`ProjectionProcess.cancel` stops a long projection by terminating the child (a t-SNE cannot be
interrupted otherwise); the waiting caller gets :class:`ProjectionCancelled`.

This module imports no Qt: the child imports it to run :func:`lower_priority`.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.connection import wait

from app.services import core_client

log = logging.getLogger(__name__)

NICENESS = 10   # the child yields the CPU to the window (and to training) on a 2-core laptop


# The child runs these module-level functions (pickled by name; they call the child's own core_client).
def lower_priority() -> None:
    """Runs first in the child: a lower CPU priority where the OS offers one."""
    if hasattr(os, "nice"):
        try:
            os.nice(NICENESS)
        except OSError:   # not permitted: the child still runs, at normal priority
            pass


def warm_up_in_child() -> None:
    core_client.warm_up_umap_here()


def project_in_child(image_emb, text_emb, method: str, seed: int):
    return core_client.project_pairs(image_emb, text_emb, method, seed)


class ProjectionCancelled(RuntimeError):
    """The projection was stopped by :meth:`ProjectionProcess.cancel` (the caller keeps what it showed)."""


class WarmUpHandle:
    """What the Modality-gap panel polls: ``is_alive()`` while the child compiles."""

    def __init__(self, future: Future) -> None:
        self.future = future

    def is_alive(self) -> bool:
        return not self.future.done()

    def error(self) -> str:
        """One line when the warm-up failed ('' while it runs or after it succeeded)."""
        if not self.future.done() or self.future.cancelled():
            return ""
        error = self.future.exception()
        return "" if error is None else f"{type(error).__name__}: {error}"


class ProjectionProcess:
    """One child process (spawned on first use) for UMAP / t-SNE; PCA stays in the caller's thread."""

    IN_PROCESS = ("pca",)   # exact, quick, numpy only: no need to cross a process boundary

    def __init__(self) -> None:
        self._executor: ProcessPoolExecutor | None = None
        self.warm_up: WarmUpHandle | None = None
        self._lock = threading.Lock()
        self._running: set[Future] = set()   # projections submitted and not yet returned
        self._generation = 0                 # counts cancels: a projection of an older one was cancelled

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            context = multiprocessing.get_context("spawn")   # never fork a process that runs Qt threads
            self._executor = ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=lower_priority)
        return self._executor

    def start_warm_up(self) -> WarmUpHandle:
        """Compile UMAP in the child now (once per session); returns the handle to poll."""
        if self.warm_up is None:
            self.warm_up = WarmUpHandle(self._pool().submit(warm_up_in_child))
        return self.warm_up

    def project(self, image_emb, text_emb, method: str, seed: int = 0):
        """``(image_xy, text_xy)`` of one run's pairs; blocks the calling (worker) thread, not the GIL.
        Raises :class:`ProjectionCancelled` when :meth:`cancel` stopped it."""
        if method in self.IN_PROCESS:
            return core_client.project_pairs(image_emb, text_emb, method, seed)
        with self._lock:
            generation = self._generation
            future = self._pool().submit(project_in_child, image_emb, text_emb, method, seed)
            self._running.add(future)
        try:
            return future.result()
        except (BrokenProcessPool, CancelledError):
            if generation != self._generation:   # cancel() stopped the child
                raise ProjectionCancelled(f"the {method.upper()} projection was cancelled") from None
            self._executor = None   # the next projection starts a new process
            raise RuntimeError(f"the {method.upper()} process stopped unexpectedly (out of memory?); "
                               "press Compute again to start a new one") from None
        finally:
            with self._lock:
                self._running.discard(future)

    @property
    def projecting(self) -> bool:
        """A UMAP / t-SNE projection runs in the child now."""
        with self._lock:
            return bool(self._running)

    def cancel(self) -> bool:
        """Stop the projection running in the child at once (the child is terminated; the next projection
        starts a new one, where UMAP loads its compiled code from numba's cache). False: none ran."""
        with self._lock:
            if not self._running:
                return False
            self._generation += 1
        self.shutdown()
        return True

    def shutdown(self) -> None:
        """Stop the child at once (a warm-up in progress is abandoned; the numba cache keeps what it wrote)."""
        executor, self._executor = self._executor, None
        if executor is None:
            return
        processes = list((getattr(executor, "_processes", None) or {}).values())
        for process in processes:
            process.terminate()
        # a child's sentinel closes when it exits, whoever reaps it (is_alive() cannot tell once another
        # thread has waited for the pid); one that outlives SIGTERM for 2 s gets SIGKILL
        ended = set(wait([p.sentinel for p in processes], timeout=2)) if processes else set()
        killed = [process for process in processes if process.sentinel not in ended]
        for process in killed:
            process.kill()
        for process in killed:   # SIGKILL cannot be refused: it is gone once the kernel has torn it down
            process.join(timeout=10)
        executor.shutdown(wait=True, cancel_futures=True)   # its children are gone: this only joins its thread
