"""The run's event log: ``RUN_DIR/events.jsonl``, one flushed JSON object per line.

Every event is ``{"v": 1, "type": ..., "time": <unix seconds>, ...fields}``; the types and their
fields are documented in docs/events.md. The GUI follows this file, so it must never hold a partial
line for long: each event is written with a single ``write`` and flushed.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Iterator

EVENT_VERSION = 1
EVENT_TYPES = (
    "run_started", "stage_started", "step", "epoch_end", "eval", "checkpoint",
    "stage_finished", "error", "run_finished",
)


def _jsonable(value):
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON has no NaN/inf; keep them readable
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item"):
        return _jsonable(value.item())
    return value


class EventWriter:
    """Appends events to ``path``. ``enabled=False`` (non-zero DDP ranks) makes every call a no-op."""

    def __init__(self, path, enabled: bool = True) -> None:
        self.path = Path(path)
        self.enabled = enabled
        self._fh = None
        if enabled:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(self.path, "a", encoding="utf-8")

    def emit(self, type: str, **fields) -> dict:
        if type not in EVENT_TYPES:
            raise ValueError(f"unknown event type '{type}'; valid: {', '.join(EVENT_TYPES)}")
        event = {"v": EVENT_VERSION, "type": type, "time": round(time.time(), 3), **_jsonable(fields)}
        if self._fh is not None:
            self._fh.write(json.dumps(event) + "\n")
            self._fh.flush()
            os.fsync(self._fh.fileno()) if type in ("run_finished", "error", "checkpoint") else None
        return event

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def read_events(path) -> list[dict]:
    """All complete events of a log (a trailing partial line is ignored)."""
    return list(iter_events(path))


def parse_event(line: str) -> dict | None:
    """One line as an event (a JSON object with a ``type``), or None for anything else: garbage bytes
    or a foreign line never stop a reader."""
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) and isinstance(event.get("type"), str) else None


def iter_events(path) -> Iterator[dict]:
    path = Path(path)
    if not path.exists():
        return
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if not line.endswith("\n"):
                break
            event = parse_event(line.strip()) if line.strip() else None
            if event is not None:
                yield event


class EventFollower:
    """Incremental reader for a growing events.jsonl (used to reattach to a running job)."""

    def __init__(self, path) -> None:
        self.path = Path(path)
        self._offset = 0
        self._partial = ""

    def poll(self) -> list[dict]:
        """Events appended since the last call."""
        if not self.path.exists():
            return []
        with open(self.path, "rb") as fh:
            fh.seek(self._offset)
            chunk = fh.read()
            self._offset = fh.tell()
        text = self._partial + chunk.decode("utf-8", errors="replace")
        lines = text.split("\n")
        self._partial = lines.pop()  # "" when the chunk ended on a newline
        events = (parse_event(line) for line in lines if line.strip())
        return [event for event in events if event is not None]
