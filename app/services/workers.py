"""Run slow calls off the GUI thread (napari ``_qt/qthreading`` style): a :class:`Worker` runs one
function on the studio's ``QThreadPool`` and reports through Qt signals, which Qt delivers on the GUI
thread (queued connections) — so slots may touch widgets.

Errors never escape as tracebacks in a terminal only: the worker turns the exception into one line
(:func:`app.services.errors.error_message`) and emits ``error``; the full traceback goes to the log.
"""

from __future__ import annotations

import inspect
import logging
import traceback

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThread, QThreadPool, QTimer, Signal

from app.services.errors import error_message

log = logging.getLogger(__name__)


class WorkerSignals(QObject):
    """Signals of one worker (a QRunnable cannot own signals itself)."""

    progress = Signal(str)
    result = Signal(object)
    error = Signal(str)
    finished = Signal()


class Worker(QRunnable):
    """Calls ``fn(*args, **kwargs)`` on a pool thread. If ``fn`` takes a ``progress`` keyword it
    receives a callable that emits ``signals.progress`` with a short status string."""

    def __init__(self, fn, *args, **kwargs) -> None:
        super().__init__()
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.signals = WorkerSignals()   # lives on the GUI thread; the pool owns and deletes the runnable
        try:
            wants_progress = "progress" in inspect.signature(fn).parameters
        except (TypeError, ValueError):
            wants_progress = False
        if wants_progress and "progress" not in kwargs:
            self.kwargs["progress"] = self.signals.progress.emit

    def run(self) -> None:  # runs on the pool thread
        try:
            result = self.fn(*self.args, **self.kwargs)
        except Exception as error:  # every failure reaches the window as one line
            log.error("worker %s failed:\n%s", getattr(self.fn, "__name__", self.fn), traceback.format_exc())
            self.signals.error.emit(error_message(error))
        else:
            self.signals.result.emit(result)
        finally:
            self.signals.finished.emit()


MIN_THREADS = 4   # a long Grad-CAM pass must not hold up a run scan or an eval load on a 2-core laptop
_studio_pool: QThreadPool | None = None


def studio_thread_pool() -> QThreadPool:
    """The studio's own pool (at least MIN_THREADS threads; the jobs mostly wait on I/O or release the GIL)."""
    global _studio_pool
    if _studio_pool is None:
        _studio_pool = QThreadPool()
        _studio_pool.setMaxThreadCount(max(MIN_THREADS, QThread.idealThreadCount()))
    return _studio_pool


class WorkerPool(QObject):
    """Starts workers and keeps them alive until they finish (so their signals stay valid)."""

    def __init__(self, parent: QObject | None = None, pool: QThreadPool | None = None) -> None:
        super().__init__(parent)
        self.pool = pool or studio_thread_pool()
        self._running: set[WorkerSignals] = set()

    def start(self, fn, *args, on_result=None, on_error=None, on_progress=None, on_finished=None, **kwargs) -> Worker:
        """Run ``fn`` in the pool; the ``on_*`` callbacks run on the GUI thread."""
        worker = Worker(fn, *args, **kwargs)
        signals = worker.signals
        self._running.add(signals)   # keeps the signals object alive until its queued signals are handled
        signals.finished.connect(lambda: QTimer.singleShot(0, lambda: self._running.discard(signals)))
        for signal, slot in ((worker.signals.result, on_result), (worker.signals.error, on_error),
                             (worker.signals.progress, on_progress), (worker.signals.finished, on_finished)):
            if slot is not None:
                signal.connect(self._while_alive(slot))
        self.pool.start(worker)
        return worker

    def _while_alive(self, slot):
        """``slot``, called only while this pool (and so the panel that owns it) and the slot's own QObject
        still exist: a result that arrives after its window was closed and deleted is dropped."""
        owner = getattr(slot, "__self__", None)

        def deliver(*args):
            if shiboken6.isValid(self) and (not isinstance(owner, QObject) or shiboken6.isValid(owner)):
                slot(*args)
        return deliver

    @property
    def busy(self) -> bool:
        return bool(self._running)

    def wait(self, msecs: int = 30000) -> bool:
        """Block until every pool thread is idle (used when the window closes)."""
        return self.pool.waitForDone(msecs)
