"""What the evented view models of the analysis panels (Saliency, Modality gap, Study, Dataset) share,
without Qt: a placeholder text for a results area, errors as events, and emitting what changed once.

A state lists its evented attributes in ``EVENTED`` (attribute name -> signal name) and changes them
inside ``with self._changing():``. When the outermost block ends, every listed attribute whose value
differs from before emits its signal once with the new value, then the events raised in the block
(errors) go out — after everything was set, so a subscriber always reads a consistent state.
``self._changing(reset=True)`` emits the state's ``reset()`` signal alone, whatever changed: another
workspace replaced everything at once and the subscribers draw it all again.

Errors are events, not values: ``error_reported(message)`` goes out for each report, even with the text
of the previous one (pressing Compute again is news: the banner shows again, the status bar too);
``error_cleared()`` once when a reported error no longer applies.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class Placeholder:
    """What a results area says instead of results (``error``: in red, a failure)."""

    text: str
    error: bool = False


def same(before, after) -> bool:
    """Plain values (texts, numbers, tuples, frozen dataclasses of them) are equal by value; results
    (grids, summaries, declared ``eq=False``) by identity: a new computation is a change."""
    if before is after:
        return True
    try:
        return bool(before == after)
    except (TypeError, ValueError):   # arrays inside: no plain truth value
        return False


class EventedState:
    """Base of the evented view models: ``EVENTED``, :meth:`_changing` and the error events. Subclasses
    declare the psygnal signals ``reset``, ``error_reported`` and ``error_cleared`` next to their own."""

    EVENTED: ClassVar[dict[str, str]] = {}

    def __init__(self) -> None:
        self.error = ""              # the error reported last and still valid ("" none)
        self._depth = 0
        self._before: dict = {}
        self._resetting = False
        self._events: list = []      # (signal, args) raised inside the block, emitted after it

    @contextmanager
    def _changing(self, reset: bool = False):
        if self._depth == 0:
            self._before = {name: getattr(self, name) for name in self.EVENTED}
            self._resetting, self._events = False, []
        self._resetting = self._resetting or reset
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
        if self._depth == 0:
            self._emit_changes()

    def _emit_changes(self) -> None:
        before, events = self._before, self._events
        self._before, self._events = {}, []
        if self._resetting:
            self.reset.emit()
            return
        for name, signal in self.EVENTED.items():
            value = getattr(self, name)
            if not same(before[name], value):
                getattr(self, signal).emit(value)
        for signal, args in events:
            signal.emit(*args)

    def _event(self, signal, *args) -> None:
        """Emit ``signal`` now, or once the changes of the block being made went out."""
        if self._depth:
            self._events.append((signal, args))
        else:
            signal.emit(*args)

    # -- errors -------------------------------------------------------------------------------------------
    def report_error(self, message: str) -> None:
        """A problem the user must see (``error_reported``), kept until it no longer applies."""
        self.error = message
        self._event(self.error_reported, message)

    def _clear_error(self) -> None:
        if self.error:
            self.error = ""
            self._event(self.error_cleared)
