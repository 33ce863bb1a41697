"""Image integrity checks behind ``scing data check``: open every image with PIL, verify and
decode it, and collect the files that fail with the reason."""

from __future__ import annotations

from typing import Callable, Iterable

from PIL import Image

from scing_core.data.types import ReIDDataset

ProgressCallback = Callable[[int, int], None]


def image_problem(path: str) -> str | None:
    """Why ``path`` cannot be used as an image (``None`` when it opens, verifies and decodes)."""
    try:
        with Image.open(path) as image:
            image.verify()  # checks the structure; the image must be reopened afterwards
        with Image.open(path) as image:
            image.load()  # decodes the pixels: catches truncated files that verify() lets through
    except Exception as exc:  # PIL raises OSError, SyntaxError, ValueError, DecompressionBombError...
        return f"{type(exc).__name__}: {str(exc).replace(repr(str(path)), '').strip()}"
    return None


def dataset_image_paths(dataset: ReIDDataset) -> list[str]:
    """Every distinct image path of the dataset, train then query then gallery."""
    seen: dict[str, None] = {}
    for split in ("train", "query", "gallery"):
        for sample in dataset.split(split):
            seen.setdefault(sample.path, None)
    return list(seen)


def find_unreadable(paths: Iterable[str], progress: ProgressCallback | None = None) -> list[tuple[str, str]]:
    """``(path, reason)`` for every path that is not a readable image; ``progress(done, total)``
    is called after each image."""
    paths = list(paths)
    problems = []
    for done, path in enumerate(paths, start=1):
        reason = image_problem(path)
        if reason is not None:
            problems.append((path, reason))
        if progress is not None:
            progress(done, len(paths))
    return problems
