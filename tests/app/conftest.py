"""Fixtures of the studio's GUI tests (pytest-qt, QT_QPA_PLATFORM=offscreen set by tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_workspace(tiny_runs) -> Path:
    """The folder whose runs/ holds the three tiny runs (clipreid, cocoop, scing)."""
    return Path(tiny_runs["scing"]).parent.parent


@pytest.fixture
def isolated_home(tmp_path, monkeypatch) -> Path:
    """User data/cache folders under tmp_path, so the default demo workspace is a missing folder."""
    monkeypatch.setenv("SCING_STUDIO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "home"


@pytest.fixture
def open_window(qtbot):
    """``open_window(workspace)`` -> a shown MainWindow whose first workspace scan has finished."""
    from app.main_window import MainWindow

    windows = []

    def factory(workspace):
        window = MainWindow(workspace, warm_up_umap=False)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitUntil(lambda: window.workspace.scans_done > 0, timeout=20000)
        windows.append(window)
        return window

    yield factory
    for window in windows:
        for pool in (window.workspace.workers, *(panel.workers for panel in window.panels.values())):
            pool.wait(60000)


FAKE_SLURM = Path(__file__).resolve().parents[1] / "fake_slurm"


@pytest.fixture
def fake_slurm(tmp_path, monkeypatch) -> Path:
    """Slurm's commands as stand-ins (tests/fake_slurm) on PATH: a submitted job runs on this machine and
    sacct reports it as Slurm would; partitions "debug" and "gpu". Returns the stand-ins' state folder."""
    import os
    import sys

    monkeypatch.setenv("PATH", f"{FAKE_SLURM}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_SLURM_DIR", str(tmp_path / "slurm-state"))
    monkeypatch.setenv("FAKE_SLURM_PYTHON", sys.executable)
    return tmp_path / "slurm-state"
