"""Finding Modality-gap points by identity or path ("find: path or id"; numpy, no Qt).

A whole number finds every image point of that dataset identity; anything else (or a number no identity
has) finds the images whose path contains it (case-insensitive). No match: one line says so.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SearchResult:
    text: str
    how: str = ""                 # "identity" | "path" | "" (nothing searched)
    found: tuple = ()             # ((plot index, image index), …)

    @property
    def message(self) -> str:
        if not self.text:
            return ""
        if not self.found:
            return f"no point matches '{self.text}'"
        runs = len({plot for plot, _ in self.found})
        what = f"identity {self.text}" if self.how == "identity" else f"path '{self.text}'"
        return f"{what}: {len(self.found)} image point(s) in {runs} plot(s)"


def search_points(views, text: str) -> SearchResult:
    text = text.strip()
    if not text:
        return SearchResult("")
    if text.lstrip("-").isdigit():
        pid = int(text)
        found = tuple((p, i) for p, view in enumerate(views) for i, own in enumerate(view.pids) if int(own) == pid)
        if found:
            return SearchResult(text, "identity", found)
    needle = text.lower()
    found = tuple((p, i) for p, view in enumerate(views) for i, path in enumerate(view.paths) if needle in path.lower())
    return SearchResult(text, "path", found)
