"""Where the project's resources (config presets, icons, styles) live."""

from __future__ import annotations

import os
from pathlib import Path


def resources_dir() -> Path:
    """``$SCING_RESOURCES`` if set, else the repository's top-level ``resources/`` folder."""
    env = os.environ.get("SCING_RESOURCES")
    return Path(env) if env else Path(__file__).resolve().parents[1] / "resources"
