"""docs/fidelity.md stays true: every `file:line` it cites holds its anchor, and every preset it names resolves."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from scing_core.config import resolve_config

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "docs" / "tools"))
import fidelity_refs  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "fidelity.md"


def test_every_code_reference_points_at_the_line_it_means():
    refs = fidelity_refs.references(DOC.read_text())
    assert len(refs) >= 40
    problems = [p for p in map(fidelity_refs.problem, refs) if p]
    assert not problems, "run `make fidelity-refs` to renumber:\n" + "\n".join(problems)


def test_renumbering_follows_a_moved_line(tmp_path, monkeypatch):
    target = tmp_path / "scing_core" / "moved.py"
    target.parent.mkdir()
    target.write_text("x = 1\n\ndef moved():\n    pass\n")
    monkeypatch.setattr(fidelity_refs, "ROOT", tmp_path)
    doc = "see `scing_core/moved.py:1`<!--@ def moved( --> and `scing_core/moved.py:1`<!--@ def gone( -->"
    fixed, unsolved = fidelity_refs.fix(doc)
    assert fixed.startswith("see `scing_core/moved.py:3`<!--@ def moved( -->")
    assert unsolved == ["scing_core/moved.py:1 no longer holds 'def gone('"]


def test_every_preset_the_doc_names_resolves():
    presets = set(re.findall(r"`((?:DATASET|occluded_duke)/[a-z_]+(?:/[a-z_]+)?)`", DOC.read_text()))
    assert "occluded_duke/clipreid/ablation" in presets
    for preset in presets:
        resolve_config(preset.replace("DATASET", "market1501"))
