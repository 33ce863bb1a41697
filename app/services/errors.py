"""How an exception reads in the window: one line (Qt-free, shared by workers and the core client)."""

from __future__ import annotations

from scing_core.api import ScingError


def error_message(error: BaseException) -> str:
    """The one line a user sees: the message of a ScingError as the core wrote it (it says what to
    fix), otherwise the exception type and its first line."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    if isinstance(error, ScingError) and text:
        return text
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
