"""``scing-studio --screenshot DIR``: show each panel with real content, save DIR/studio-<panel>.png, quit.

Each step switches to a panel, optionally starts its computation (saliency grid, modality gap), waits
until no worker of the window is busy (with a timeout), lets the layout settle and grabs the window.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

log = logging.getLogger(__name__)

STEP_TIMEOUT_S = 300
SETTLE_MS = 400


class ScreenshotSession(QObject):
    finished = Signal(list)   # written paths

    def __init__(self, window, out_dir, parent: QObject | None = None) -> None:
        super().__init__(parent or window)
        self.window = window
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.steps: list | None = None   # decided once the workspace scan shows what the window holds
        self.written: list[Path] = []
        self.timer = QTimer(self)
        self.timer.setInterval(200)
        self.timer.timeout.connect(self._tick)
        self._current = None
        self._deadline = 0.0
        self._settled_at = None

    def start(self) -> None:
        self._deadline = time.monotonic() + STEP_TIMEOUT_S
        self._current = ("_workspace", None, None)   # first wait for the workspace scan
        self.timer.start()

    def _tick(self) -> None:
        if not self._idle() and time.monotonic() < self._deadline:
            self._settled_at = None
            return
        if self._settled_at is None:
            self._settled_at = time.monotonic()
            return
        if (time.monotonic() - self._settled_at) * 1000 < SETTLE_MS:
            return
        name = self._current[0] if self._current else None
        if name and name != "_workspace":
            path = self.out_dir / f"studio-{name}.png"
            self.window.grab().save(str(path))
            self.written.append(path)
            log.info("wrote %s", path)
        self._next()

    def _next(self) -> None:
        self._settled_at = None
        if self.steps is None:
            self.steps = list(self.window.screenshot_steps())
        if not self.steps:
            self.timer.stop()
            self.finished.emit(self.written)
            return
        self._current = self.steps.pop(0)
        name, show, start = self._current
        show()
        if start is not None:
            start()
        self._deadline = time.monotonic() + STEP_TIMEOUT_S

    def _idle(self) -> bool:
        return not self.window.busy()
