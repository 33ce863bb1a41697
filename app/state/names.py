"""How long run names and long texts are shown (no Qt here).

Run names of one study differ in a few words in the middle (``scing-synthped_occluded-demo_quick-lr1e-4-
pdca-gate_off-seed0`` / ``…-gate_on-seed0``); cut at the end or elided in the middle by width they all
look alike. :func:`distinguishing_names` gives each name the part that tells it from the others listed
(``…gate_off…`` / ``…gate_on…``), cut at the separators ``-``, ``_``, ``/``, ``.``; the widgets show it
where the whole name does not fit and keep the whole name in the tooltip.

:func:`breakable` lets a long text without spaces (a path, a run name, an error quoting both) wrap in a
word-wrapped label: a zero-width space after each separator and inside very long unbroken runs.
"""

from __future__ import annotations

import re

ELLIPSIS = "…"
SEPARATORS = "-_/."
ZERO_WIDTH_SPACE = "\u200b"
BREAK_AFTER = "/\\_-.,:;="   # a text may wrap after these (paths, run names, key=value lists)
LONGEST_UNBROKEN = 24        # ... and inside a run of this many characters without one
SHORT_WORD = 2               # a word this short reads with its neighbour ("lr1e-4", "gate_on")
MIN_ELIDED = 3               # eliding fewer characters than this saves nothing

_WORDS = re.compile(f"([{re.escape(SEPARATORS)}])")


def distinguishing_names(names) -> list[str]:
    """For each name, the shortest text that tells it from the other ``names``: the part where it
    departs from its closest neighbours, with one word of context before it, and ``…`` where a common
    prefix or suffix was left out. Names that share nothing worth leaving out are returned whole;
    identical names stay identical. Two different names never get the same text."""
    names = [str(name) for name in names]
    words = [_WORDS.split(name) for name in names]   # words at even indices, separators at odd ones
    windows = [_window(words[i], [w for w in words if w != words[i]]) for i in range(len(words))]
    while True:
        shown = [_shown(w, window) for w, window in zip(words, windows)]
        clashing = _clashing(shown, names)
        if not clashing:
            return shown
        for i in clashing:   # one more word on each side until the texts differ (the whole names do)
            lo, hi = windows[i]
            windows[i] = (max(0, lo - 2), min(len(words[i]), hi + 2))


def _window(mine: list[str], others: list[list[str]]) -> tuple[int, int]:
    """``(lo, hi)``: the words of ``mine`` to show (``mine[lo:hi]``)."""
    if not others:
        return 0, len(mine)
    prefixes = [_common_prefix(mine, other) for other in others]
    lo = max(prefixes)   # where it departs from its closest neighbours ...
    closest = [other for other, prefix in zip(others, prefixes) if prefix == lo]
    hi = len(mine) - min(_common_suffix(mine, other, lo) for other in closest)   # ... up to where they meet again
    return _readable(mine, lo, hi)


def _readable(words: list[str], lo: int, hi: int) -> tuple[int, int]:
    """Whole words, one word of context before the difference, short words kept with their neighbours,
    and nothing left out that is too short to be worth an ellipsis."""
    hi = max(hi, min(lo + 1, len(words)))
    lo = min(lo, hi - 1)
    lo -= lo % 2                                   # start on a word
    hi += 1 - hi % 2 if hi < len(words) else 0     # end on a word
    if lo >= 2:
        lo -= 2                                    # one word of context
    while lo >= 2 and len(words[lo]) <= SHORT_WORD:
        lo -= 2
    while hi < len(words) and len(words[hi + 1]) <= SHORT_WORD:
        hi += 2
    if len("".join(words[:lo])) < MIN_ELIDED:
        lo = 0
    if len("".join(words[hi:])) < MIN_ELIDED:
        hi = len(words)
    return lo, hi


def _shown(words: list[str], window: tuple[int, int]) -> str:
    lo, hi = window
    return (ELLIPSIS if lo > 0 else "") + "".join(words[lo:hi]) + (ELLIPSIS if hi < len(words) else "")


def _clashing(shown: list[str], names: list[str]) -> list[int]:
    """Indices of names shown like another, different name."""
    owners: dict[str, set[str]] = {}
    for text, name in zip(shown, names):
        owners.setdefault(text, set()).add(name)
    return [i for i, text in enumerate(shown) if len(owners[text]) > 1]


def _common_prefix(a: list[str], b: list[str]) -> int:
    count = 0
    while count < min(len(a), len(b)) and a[count] == b[count]:
        count += 1
    return count


def _common_suffix(a: list[str], b: list[str], prefix: int) -> int:
    """Words ``a`` and ``b`` end with, not counting the ``prefix`` words they start with."""
    limit = min(len(a), len(b)) - prefix
    count = 0
    while count < limit and a[-1 - count] == b[-1 - count]:
        count += 1
    return count


def breakable(text: str, longest: int = LONGEST_UNBROKEN) -> str:
    """``text`` with a zero-width space after each separator of :data:`BREAK_AFTER` and inside every run
    of ``longest`` characters without a space or separator, so a word-wrapped label can wrap it anywhere
    it must (the text reads the same)."""
    pieces, unbroken = [], 0
    for char in str(text):
        pieces.append(char)
        if char.isspace() or char == ZERO_WIDTH_SPACE:
            unbroken = 0
            continue
        unbroken += 1
        if char in BREAK_AFTER or unbroken >= longest:
            pieces.append(ZERO_WIDTH_SPACE)
            unbroken = 0
    return "".join(pieces)
