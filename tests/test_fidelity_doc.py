"""docs/fidelity.md stays true: every `file:line` it cites exists, and every preset it names resolves."""

from __future__ import annotations

import re
from pathlib import Path

from scing_core.config import resolve_config

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "fidelity.md"


def test_every_code_reference_points_at_an_existing_line():
    refs = re.findall(r"`((?:scing_core|resources)/[\w/.-]+):(\d+)`", DOC.read_text())
    assert len(refs) >= 40
    for path, line in refs:
        lines = (ROOT / path).read_text().splitlines()
        assert 1 <= int(line) <= len(lines), f"{path}:{line}"
        assert lines[int(line) - 1].strip(), f"{path}:{line} is a blank line"


def test_every_preset_the_doc_names_resolves():
    presets = set(re.findall(r"`((?:DATASET|occluded_duke)/[a-z_]+(?:/[a-z_]+)?)`", DOC.read_text()))
    assert "occluded_duke/clipreid/ablation" in presets
    for preset in presets:
        resolve_config(preset.replace("DATASET", "market1501"))
