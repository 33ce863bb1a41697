"""Keep docs/fidelity.md's ``file:line`` references pointing at the lines they mean.

Each reference is written ``\u0060path:LINE\u0060<!--@ ANCHOR -->``: ANCHOR (invisible once rendered) is
text that line holds. ``check`` lists every reference whose line no longer holds its anchor;
``fix`` renumbers each such reference to the line of its file that holds the anchor, nearest the
old number (an anchor found nowhere stays an error: reword the anchor or the doc).

    python docs/tools/fidelity_refs.py          # check
    python docs/tools/fidelity_refs.py --fix    # renumber after code moved (``make fidelity-refs``)
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "fidelity.md"
REFERENCE = re.compile(r"`((?:scing_core|resources)/[\w/.-]+):(\d+)`(?:<!--@ (.+?) -->)?")


@dataclass(frozen=True)
class Reference:
    path: str
    line: int
    anchor: str | None
    span: tuple[int, int]


def references(text: str) -> list[Reference]:
    return [Reference(m.group(1), int(m.group(2)), m.group(3), m.span()) for m in REFERENCE.finditer(text)]


def _lines(path: str) -> list[str]:
    file = ROOT / path
    return file.read_text(encoding="utf-8").splitlines() if file.is_file() else []


def problem(ref: Reference) -> str | None:
    """Why ``ref`` is wrong, or None when its line exists and holds its anchor."""
    lines = _lines(ref.path)
    if not lines:
        return f"{ref.path}:{ref.line}: no such file"
    if ref.anchor is None:
        return f"{ref.path}:{ref.line}: no anchor; write <!--@ text of that line --> after the reference"
    if not 1 <= ref.line <= len(lines) or ref.anchor not in lines[ref.line - 1]:
        return f"{ref.path}:{ref.line} no longer holds '{ref.anchor}'"
    return None


def renumbered(ref: Reference) -> int | None:
    """The line of ``ref.path`` holding ``ref.anchor`` nearest ``ref.line``; None when none does."""
    hits = [n for n, line in enumerate(_lines(ref.path), start=1) if ref.anchor and ref.anchor in line]
    return min(hits, key=lambda n: abs(n - ref.line)) if hits else None


def fix(text: str) -> tuple[str, list[str]]:
    """``text`` with every stale reference renumbered, and the problems no renumbering solves."""
    unsolved, pieces, last = [], [], 0
    for ref in references(text):
        if problem(ref) is None:
            continue
        line = renumbered(ref)
        if line is None:
            unsolved.append(problem(ref))
            continue
        pieces += [text[last:ref.span[0]], f"`{ref.path}:{line}`<!--@ {ref.anchor} -->"]
        last = ref.span[1]
    return "".join(pieces) + text[last:], unsolved


def main(argv: list[str]) -> int:
    text = DOC.read_text(encoding="utf-8")
    if "--fix" in argv:
        fixed, unsolved = fix(text)
        if fixed != text:
            DOC.write_text(fixed, encoding="utf-8")
        print("\n".join(unsolved) or f"{DOC.relative_to(ROOT)}: every reference holds its anchor")
        return 1 if unsolved else 0
    problems = [p for p in map(problem, references(text)) if p]
    print("\n".join(problems) or f"{DOC.relative_to(ROOT)}: every reference holds its anchor")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
