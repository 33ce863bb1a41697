"""`scing demo` command line: help, plan, and the single progress view (fast, builds nothing)."""

from __future__ import annotations

import io

import pytest

from scing_core.cli import main as scing
from scing_core.cli.pipeline_view import ConsolePipelineProgress
from scing_core.pipeline import PlannedStep


def test_help_documents_every_option(capsys):
    with pytest.raises(SystemExit) as exit_info:
        scing(["demo", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for option in ("--workspace", "--quick", "--seed", "--plan", "--plain"):
        assert option in out
    assert "usage: scing demo" in out and "SynthCLIP" in out


def test_plan_lists_the_steps_without_building(tmp_path, capsys):
    assert scing(["demo", "--quick", "--plan", "--workspace", str(tmp_path / "ws")]) == 0
    out = capsys.readouterr().out
    assert "run/scing" in out and "to do" in out and "report" in out
    assert not (tmp_path / "ws").exists()


def test_a_workspace_with_other_settings_is_a_one_line_error(tmp_path, capsys):
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "demo.json").write_text('{"version": 1, "quick": true, "seed": 9}')
    assert scing(["demo", "--quick", "--workspace", str(ws)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") <= 2 and "error: demo workspace" in err and "other settings" in err


def test_plain_progress_shows_one_eta_over_all_steps():
    stream = io.StringIO()
    view = ConsolePipelineProgress(stream=stream, plain=True)
    view.PLAIN_EVERY_S = 0.0
    view.plan([PlannedStep("data/holistic", "SynthPed", 10.0, True), PlannedStep("synthclip", "SynthCLIP", 0.0, False),
               PlannedStep("run/scing", "SCING", 30.0, True)])
    view.step_started("data/holistic", "SynthPed", 10.0)
    view.step_progress("data/holistic", 0.5, "50/100 images")
    view.step_finished("data/holistic", "ran", 2.0)
    view.step_finished("synthclip", "skipped", 0.0)
    assert view.progressed() == pytest.approx(10.0) and view.total == pytest.approx(40.0)
    text = stream.getvalue()
    assert "2 of 3 steps to build, expected about 40s" in text
    assert "data/holistic: 50/100 images  (50%, demo ETA" in text
    assert "[1/3] data/holistic: ran in 2s" in text and "[2/3] synthclip: skipped" in text
