"""The studio's own files in a workspace (``WORKSPACE/studio/…``): read as JSON with a one-line reason
when they cannot be, written atomically (a temporary file beside, then ``os.replace``), so a crash or a
full disk never leaves half a file and the previous one stays until the new one is complete."""

from __future__ import annotations

import json
import os
import stat
import tempfile
from pathlib import Path

STUDIO_FOLDER = "studio"


def studio_file(workspace, name: str) -> Path:
    return Path(workspace) / STUDIO_FOLDER / name


class StudioFileError(ValueError):
    """A studio file that is there but cannot be used; the message is one line saying how to fix it."""


def read_json_file(path, kind: type = dict):
    """The JSON in ``path`` (None when there is no file); :class:`StudioFileError` when it cannot be read
    or holds something other than a ``kind``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise StudioFileError(f"cannot read {path}: {error.__class__.__name__} ({error}); fix its permissions or "
                              "remove it") from None
    try:
        data = json.loads(text)
    except ValueError as error:
        raise StudioFileError(f"{path} is not valid JSON (line {getattr(error, 'lineno', '?')}): fix or delete it, "
                              "the studio left it untouched") from None
    if not isinstance(data, kind):
        raise StudioFileError(f"{path} holds a {type(data).__name__}, not the {kind.__name__} the studio writes: fix "
                              "or delete it")
    return data


def write_json_file(path, data) -> Path:
    """Write ``data`` as indented JSON atomically; the folder is created when missing."""
    return write_text_file(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def write_text_file(path, text: str) -> Path:
    """Write ``text`` (UTF-8) atomically (exports use it too: the Training series, the Retrieval queries)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:   # the file keeps its mode; a new one gets the usual rw-r--r-- (mkstemp would make it 0600)
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        mode = 0o644
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path
