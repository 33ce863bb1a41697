"""User-facing errors.

A :class:`ScingError` carries one actionable sentence: what went wrong, where, and how to fix it.
The CLI prints it as a single line (no traceback); the GUI shows it in the window.
"""

from __future__ import annotations


class ScingError(Exception):
    """Base class of every error meant to be read by a user rather than a developer."""


class DatasetError(ScingError):
    """A dataset folder is missing, misnamed, empty or unreadable."""


class ConfigError(ScingError, ValueError):
    """A configuration file or override is invalid."""


class RegistryError(ScingError, KeyError):
    """An unknown name was asked of a registry; the message lists the valid names."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class InputError(ScingError, ValueError):
    """A function argument is malformed (shape, dtype, NaN...)."""


class CheckpointError(ScingError):
    """A weights or checkpoint file cannot be used."""


class RunDirError(ScingError):
    """A run directory is missing, incomplete, or would be overwritten."""


class OutputError(ScingError):
    """An output path cannot be written (a folder where a file is wanted, no write permission...)."""
