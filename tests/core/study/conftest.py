"""The tiny study (2 rows x 2 seeds, tiny model) the study tests share: trained once per test session."""

from __future__ import annotations

import pytest

from scing_core.cli import main as scing

from tests.support import write_plan


@pytest.fixture(scope="session")
def tiny_study(tiny_synthped, tmp_path_factory):
    base = tmp_path_factory.mktemp("study")
    plan = write_plan(base / "tiny.yaml", tiny_synthped)
    assert scing(["study", "--plan", str(plan), "--workspace", str(base / "ws"), "--plain", "--device", "cpu"]) == 0
    return plan, base / "ws" / "studies" / "tiny"
