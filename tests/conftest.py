"""Shared fixtures. Tests run on CPU with tiny models and tiny synthetic data."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Idle OpenMP threads sleep instead of spinning (see scing_core/cli/__init__.py); before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import pytest


def pytest_collection_modifyitems(config, items):
    """Skip `gpu` tests when CUDA is unavailable."""
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except Exception:  # pragma: no cover - torch always installed
        has_cuda = False
    if has_cuda:
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def tiny_synthped(tmp_path_factory):
    """SynthPed with 32 identities (16 train / 16 test) x 8 images over 3 cameras at 64x32, plus 10
    distractors; masks and captions included."""
    from scing_core.data.synthped import generate_synthped

    root = tmp_path_factory.mktemp("synthped") / "synthped"
    generate_synthped(root, ids=32, images_per_id=8, cams=3, size=(64, 32), seed=1, distractors=10)
    return root


@pytest.fixture(scope="session")
def tiny_runs(tiny_synthped, tmp_path_factory):
    """One tiny trained run per method (clipreid, cocoop, scing) under one workspace folder:
    ``{"clipreid": Path, "cocoop": Path, "scing": Path}``; each has checkpoints, prototypes and eval/."""
    from tests.support import train_tiny_run

    workspace = tmp_path_factory.mktemp("workspace")
    return {m: train_tiny_run(m, tiny_synthped, workspace / "runs" / m) for m in ("clipreid", "cocoop", "scing")}
