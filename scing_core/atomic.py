"""Atomic file writes: everything the project keeps (checkpoints, configs, metrics, figures, reports)
is written to a temporary file beside its target, flushed to disk, then moved into place with
``os.replace``. A reader never sees a half-written file; a crash leaves the previous file (or none)
and no temporary file behind. (``read_json`` is the reading side of ``write_json_atomic``.)

    with atomic_open(path) as fh:          # binary; atomic_open(path, "w") for text
        torch.save(state, fh)
    write_text_atomic(path, text)
    write_json_atomic(path, data, sort_keys=True)
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from scing_core.errors import OutputError


def _file_mode() -> int:
    """The permissions a plain ``open(path, "w")`` would give (mkstemp's own are 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


FILE_MODE = _file_mode()


@contextlib.contextmanager
def atomic_open(path, mode: str = "wb", encoding: str | None = None) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path`` for writing; on a clean exit it replaces ``path``.

    Creates the parent folder. On an exception the temporary file is removed and ``path`` is untouched.
    """
    if "w" not in mode:
        raise ValueError(f"atomic_open writes whole files: mode must contain 'w', got {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if encoding is None and "b" not in mode:
        encoding = "utf-8"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, encoding=encoding) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_text_atomic(path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_open(path, "w") as handle:
        handle.write(text)
    return Path(path)


def write_bytes_atomic(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)
    return Path(path)


def write_json_atomic(path, data, *, indent: int = 2, **json_options) -> Path:
    """Write ``data`` as JSON (indented, newline-terminated) to ``path`` atomically."""
    return write_text_atomic(path, json.dumps(data, indent=indent, **json_options) + "\n")


__all__ = ["FILE_MODE", "atomic_open", "read_json", "write_bytes_atomic", "write_json_atomic", "write_text_atomic"]


def read_json(path) -> dict | None:
    """The JSON object in ``path``, or None when it is missing, unreadable or not an object."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def check_writable_folder(folder, what: str) -> Path:
    """Create ``folder`` if needed and prove it writable with a probe file, before any work starts.

    ``what`` names the folder in the error (e.g. "run directory"). Raises OutputError: the folder
    is a file or sits under one, or it cannot be written (read-only, immutable, another owner).
    """
    folder = Path(folder)
    blocker = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise OutputError(f"{what} '{folder}' cannot be created: '{blocker}' is a file; choose another path")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".scing-write-test-"):
            pass
    except OSError as exc:
        raise OutputError(f"{what} '{folder}' is not writable ({exc.strerror or exc}); fix its permissions or "
                          "choose another path") from None
    return folder


def check_output_file(path, what: str = "--out") -> Path:
    """An output file path that can be written: not an existing folder, its folder writable."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise OutputError(f"{what} '{path}' is a folder; give a file path inside it, e.g. '{path / 'figure.png'}'")
    check_writable_folder(path.parent if str(path.parent) else Path("."), f"the folder of {what}")
    return path
