"""Per-user folders: the demo workspace (data dir) and caches (numba, open_clip downloads)."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "scing-studio"


def user_data_dir() -> Path:
    """``$SCING_STUDIO_HOME``, else ``$XDG_DATA_HOME/scing-studio``, else ``~/.local/share/scing-studio``."""
    if os.environ.get("SCING_STUDIO_HOME"):
        return Path(os.environ["SCING_STUDIO_HOME"]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base).expanduser() / APP_NAME


def user_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/scing-studio``, else ``~/.cache/scing-studio``."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / APP_NAME


def default_demo_workspace() -> Path:
    """Where `scing demo` builds, and the studio opens, the embedded demo workspace."""
    return user_data_dir() / "demo"
