"""Where the project's resources (config presets, the studio's style sheet) live."""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPOSITORY_RESOURCES = Path(__file__).resolve().parents[1] / "resources"
# where a (non-editable) pip install puts them: pyproject.toml, [tool.setuptools.data-files]
INSTALLED_RESOURCES = Path(sys.prefix) / "share" / "scing-studio" / "resources"


def resources_dir() -> Path:
    """``$SCING_RESOURCES`` if set; else the repository's top-level ``resources/`` (a checkout or an
    editable install); else the copy a wheel installed under ``<prefix>/share/scing-studio/resources``."""
    env = os.environ.get("SCING_RESOURCES")
    if env:
        return Path(env)
    if REPOSITORY_RESOURCES.is_dir() or not INSTALLED_RESOURCES.is_dir():
        return REPOSITORY_RESOURCES
    return INSTALLED_RESOURCES
