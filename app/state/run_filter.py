"""The Training panel's run filter: a regular expression over run names (TensorBoard's run filter).

:func:`compile_filter` turns what the user typed into a :class:`RunFilter`; an invalid pattern filters
nothing and says why in one line (``bad pattern: unterminated character set at 3``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class RunFilter:
    text: str = ""
    pattern: re.Pattern | None = None   # None: every run passes
    error: str = ""                     # why ``text`` is not a valid pattern ("" when it is)

    def matches(self, name: str) -> bool:
        return self.pattern is None or self.pattern.search(str(name)) is not None


def compile_filter(text: str) -> RunFilter:
    """The filter for ``text`` (searched anywhere in a name, case-insensitive; empty: every run)."""
    text = str(text or "")
    if not text.strip():
        return RunFilter(text)
    try:
        return RunFilter(text, re.compile(text, re.IGNORECASE))
    except re.error as error:
        where = f" at {error.pos}" if error.pos is not None else ""
        return RunFilter(text, None, f"bad pattern: {error.msg}{where}")
