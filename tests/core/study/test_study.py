"""`scing study` end to end on a tiny plan (2 rows x 2 seeds, tiny model): runs, resume, statistics."""

from __future__ import annotations

import json

import numpy as np
import pytest

from scing_core.cli import main as scing
from scing_core.errors import ConfigError
from scing_core.study.plan import load_plan
from scing_core.study.stats import mean_ci, paired_delta_ap, sign_test

from tests.support import write_plan

pytestmark = pytest.mark.slow


def test_study_trains_every_row_and_seed_and_writes_its_statistics(tiny_study):
    _, folder = tiny_study
    assert sorted(p.name for p in (folder / "runs").iterdir()) == ["clipreid-s0", "clipreid-s1", "scing-s0", "scing-s1"]
    study = json.loads((folder / "study.json").read_text())
    assert study["test_sets"] == ["synthped"] and [r["seeds"] for r in study["rows"]] == [[0, 1], [0, 1]]
    assert "| SCING − CLIPREID |" in (folder / "study.md").read_text()


def same(found: dict, expected: dict) -> bool:
    """Equal up to float rounding, nested lists included."""
    assert found.keys() == expected.keys()
    for key, value in expected.items():
        if isinstance(value, (list, tuple)):
            assert found[key] == pytest.approx(list(value)), key
        else:
            assert found[key] == pytest.approx(value), key
    return True


def test_study_intervals_equal_a_direct_computation_from_the_run_directories(tiny_study):
    _, folder = tiny_study
    study = json.loads((folder / "study.json").read_text())

    def final(run):
        return json.loads((folder / "runs" / run / "metrics.json").read_text())["final"]["synthped"]

    def ap(run):
        return np.load(folder / "runs" / run / "eval" / "synthped" / "per_query.npz")["ap"]

    for row in study["rows"]:
        expected = mean_ci([final(f"{row['name']}-s{s}")["mAP"] for s in (0, 1)])
        assert same(row["metrics"]["synthped"]["mAP"], expected)
    (pair,) = study["pairs"]
    assert (pair["a"], pair["b"], pair["kind"]) == ("scing", "clipreid", "reference")
    a = np.stack([ap("scing-s0"), ap("scing-s1")])
    b = np.stack([ap("clipreid-s0"), ap("clipreid-s1")])
    assert same(pair["delta_ap"], paired_delta_ap(a, b))
    maps_a, maps_b = [final(f"scing-s{s}")["mAP"] for s in (0, 1)], [final(f"clipreid-s{s}")["mAP"] for s in (0, 1)]
    assert pair["sign"] == sign_test(maps_a, maps_b)
    assert pair["delta_map"]["mean"] == pytest.approx(np.mean(np.subtract(maps_a, maps_b)))


def test_a_study_is_never_reused_without_resume_and_resume_adds_seeds(tiny_study, capsys):
    plan, folder = tiny_study
    workspace = folder.parents[1]
    assert scing(["study", "--plan", str(plan), "--workspace", str(workspace), "--plain"]) != 0
    assert "exists; pass --resume to continue it" in capsys.readouterr().err
    assert scing(["study", "--plan", str(plan), "--workspace", str(workspace), "--plain", "--resume", "--seeds", "3"]) == 0
    log = [json.loads(line) for line in (folder / "study-log.jsonl").read_text().splitlines()]
    last_call = log[-7:]  # 6 runs + the report
    assert [e["action"] for e in last_call if e["step"].endswith(("-s0", "-s1"))] == ["skipped"] * 4
    assert [e["action"] for e in last_call if e["step"].endswith("-s2")] == ["ran", "ran"]
    assert json.loads((folder / "study.json").read_text())["plan"]["seeds"] == [0, 1, 2]


def test_plans_fail_early_with_the_row_that_is_wrong(tmp_path, tiny_synthped):
    plan = write_plan(tmp_path / "bad.yaml", tiny_synthped, rows=("clipreid", "scnig"))
    with pytest.raises(ConfigError, match="row 'scnig'.*Did you mean 'scing'"):
        load_plan(str(plan))
    with pytest.raises(ConfigError, match="unknown study plan 'study/table9'"):
        load_plan("study/table9")


def test_shipped_plans_resolve_and_their_rows_differ_in_one_switch_each():
    for name in ("study/table3-synthped", "study/table3-occluded-duke"):
        plan = load_plan(name)
        assert [r.name for r in plan.rows] == ["clipreid", "metanet", "svip", "scing"] and plan.reference == "clipreid"
    assert load_plan("study/table3-synthped").seeds == (0, 1, 2, 3, 4) and load_plan("study/table3-synthped").data == "demo"
