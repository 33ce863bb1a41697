"""The demo workspace: settings guard, default location, step log, plan and config (fast, no training)."""

from __future__ import annotations

import json

import pytest

from scing_core.demo import DemoSettings, DemoWorkspace, last_invocation, plan_demo, read_step_log
from scing_core.demo.steps import demo_config
from scing_core.pipeline.steps import StepLog, StepOutcome
from scing_core.errors import InputError


def test_default_workspace_honours_scing_studio_home(monkeypatch, tmp_path):
    monkeypatch.setenv("SCING_STUDIO_HOME", str(tmp_path / "home"))
    assert DemoWorkspace.at().root == (tmp_path / "home" / "demo").resolve()


def test_default_workspace_falls_back_to_xdg_data_home(monkeypatch, tmp_path):
    monkeypatch.delenv("SCING_STUDIO_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert DemoWorkspace.at().root == (tmp_path / "xdg" / "scing-studio" / "demo").resolve()


def test_workspace_built_quick_refuses_a_full_build(tmp_path):
    ws = DemoWorkspace.at(tmp_path / "ws")
    ws.check_settings(DemoSettings.for_mode(quick=True))
    ws.check_settings(DemoSettings.for_mode(quick=True))  # same settings: fine
    with pytest.raises(InputError, match=r"other settings: quick=True \(now False\)"):
        ws.check_settings(DemoSettings.for_mode(quick=False))
    with pytest.raises(InputError, match=r"seed=0 \(now 3\)"):
        ws.check_settings(DemoSettings.for_mode(quick=True, seed=3))


def test_foreign_non_empty_folder_is_refused_and_left_alone(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="not empty and was not made by `scing demo`"):
        DemoWorkspace.at(tmp_path).check_settings(DemoSettings.for_mode(quick=True))
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_step_log_keeps_each_invocation_apart(tmp_path):
    ws = DemoWorkspace.at(tmp_path)
    first, second = StepLog(ws.log, invocation="a"), StepLog(ws.log, invocation="b")
    first.record(StepOutcome("data/holistic", "ran", 1.5))
    second.record(StepOutcome("data/holistic", "skipped"))
    second.record(StepOutcome("synthclip", "skipped"))
    assert [e["invocation"] for e in read_step_log(tmp_path)] == ["a", "b", "b"]
    assert [(e["step"], e["action"]) for e in last_invocation(tmp_path)] == [("data/holistic", "skipped"),
                                                                            ("synthclip", "skipped")]
    assert all(json.loads(line)["v"] == 1 for line in ws.log.read_text().splitlines())


def test_plan_of_an_empty_workspace_has_every_step_to_do(tmp_path):
    plan = plan_demo(tmp_path / "ws", quick=True)
    names = [p.name for p in plan]
    assert names[:6] == ["data/holistic", "data/occluded", "synthclip", "run/clipreid", "run/cocoop", "run/scing"]
    assert names[-1] == "report" and any(n.startswith("figures/") for n in names)
    assert all(p.todo and p.expected_seconds > 0 for p in plan)
    assert not (tmp_path / "ws").exists()  # planning writes nothing


def test_demo_config_trains_on_occluded_with_synthclip_and_tests_both_splits(tmp_path):
    ws = DemoWorkspace.at(tmp_path)
    full = demo_config(ws, DemoSettings.for_mode(False, seed=5), "scing")
    quick = demo_config(ws, DemoSettings.for_mode(True), "scing")
    assert full.data.root == str(ws.dataset("occluded"))
    assert full.model.pretrained == str(ws.synthclip) and full.model.arch == "synthclip-s"
    assert full.seed == 5 and full.model.method == "scing"
    labels = [f"synthped@{p.rpartition('/')[2]}" for p in full.data.test_datasets]
    assert sorted(labels) == sorted(ws.eval_label(s) for s in ("holistic", "occluded"))
    assert quick.stage1.epochs < full.stage1.epochs and quick.stage2.epochs < full.stage2.epochs
