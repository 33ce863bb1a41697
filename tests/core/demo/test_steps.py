"""Demo steps on tiny data: SynthPed regeneration, run-folder leftovers, and stopping / resuming a run."""

from __future__ import annotations

import json

import pytest

from scing_core.demo import DemoSettings, DemoWorkspace
from scing_core.demo.steps import RunStep
from scing_core.pipeline import PipelineProgress, StepReporter, StepStopped, StopFlag
from scing_core.pipeline.synthetic import SynthPedStep
from scing_core.pipeline.training import RunProgressHook, clear_leftovers
from scing_core.runs.layout import RunDir
from scing_core.errors import InputError

TINY = DemoSettings(quick=True, ids=4, images_per_id=2, cams=2, distractors=1, size=(32, 16))


class Recorder(PipelineProgress):
    def __init__(self):
        self.fractions = []

    def step_progress(self, name, fraction, detail=""):
        self.fractions.append(fraction)


def test_synthped_step_regenerates_an_interrupted_dataset(tmp_path):
    from scing_core.data.synthped import INCOMPLETE_MARKER, synthped_state

    ws = DemoWorkspace.at(tmp_path)
    step = SynthPedStep(ws, TINY, "occluded")
    step.folder.mkdir(parents=True)
    (step.folder / INCOMPLETE_MARKER).write_text("{}")
    (step.folder / "query").mkdir()
    assert not step.is_done()
    progress = Recorder()
    assert step.run(StepReporter(step.name, progress, StopFlag())) == "resumed"
    assert synthped_state(step.folder) == "complete" and step.is_done()
    assert progress.fractions[-1] == 1.0
    meta = json.loads((step.folder / "meta.json").read_text())
    assert meta["parameters"]["occluded"] is True and meta["parameters"]["seed"] == TINY.seed


def test_synthped_with_other_parameters_is_not_done(tmp_path):
    ws = DemoWorkspace.at(tmp_path)
    SynthPedStep(ws, TINY, "holistic").run(StepReporter("x", PipelineProgress(), StopFlag()))
    assert SynthPedStep(ws, TINY, "holistic").is_done()
    other = DemoSettings(**{**TINY.__dict__, "images_per_id": 3})
    assert not SynthPedStep(ws, other, "holistic").is_done()


def test_stop_request_interrupts_synthped_generation(tmp_path):
    from scing_core.data.synthped import synthped_state

    ws = DemoWorkspace.at(tmp_path)
    step = SynthPedStep(ws, TINY, "holistic")
    stop = StopFlag()
    stop.request()
    with pytest.raises(StepStopped):
        step.run(StepReporter(step.name, PipelineProgress(), stop))
    assert synthped_state(step.folder) == "incomplete" and not step.is_done()


def test_leftovers_of_a_run_killed_before_its_config_are_cleared(tmp_path):
    run = RunDir.at(tmp_path / "run")
    (run.root / "cache").mkdir(parents=True)
    run.events.write_text('{"type": "run_started"}\n')
    clear_leftovers(run)
    assert run.root.is_dir() and not any(run.root.iterdir())


def test_unknown_files_in_a_run_folder_are_refused(tmp_path):
    run = RunDir.at(tmp_path / "run")
    run.root.mkdir()
    (run.root / "thesis.tex").write_text("keep me")
    with pytest.raises(InputError, match="thesis.tex"):
        clear_leftovers(run)
    assert (run.root / "thesis.tex").exists()


def test_run_is_done_only_with_metrics_for_both_splits(tmp_path):
    ws = DemoWorkspace.at(tmp_path)
    step = RunStep(ws, TINY, "scing")
    step.run_dir.root.mkdir(parents=True)
    step.run_dir.metrics.write_text(json.dumps({"final": {ws.eval_label("occluded"): {"mAP": 0.5}}}))
    assert not step.is_done()
    labels = {ws.eval_label(s): {"mAP": 0.5} for s in ("occluded", "holistic")}
    step.run_dir.metrics.write_text(json.dumps({"final": labels}))
    assert step.is_done()


def test_stop_during_training_keeps_a_checkpoint_and_resume_finishes(tiny_synthped, tmp_path):
    from scing_core.config import resolve_config
    from scing_core.runs.events import read_events
    from scing_core.engine.run import train
    from tests.support import quick_overrides

    cfg = resolve_config("synthped/scing/quick", quick_overrides(tiny_synthped, "stage1.epochs=1", "stage2.epochs=1"))
    run = RunDir.at(tmp_path / "run")
    stop = StopFlag()
    stop.request()
    hook = RunProgressHook(StepReporter("run/scing", PipelineProgress(), stop), stage1_share=0.3)
    assert train(cfg, run.root, hooks=[hook]) == {}
    assert hook.stopping and run.last.exists() and not run.metrics.exists()
    assert read_events(run.events)[-1]["status"] == "stopped"

    progress = Recorder()
    resumed = RunProgressHook(StepReporter("run/scing", progress, StopFlag()), stage1_share=0.3)
    metrics = train(cfg, run.root, resume=True, hooks=[resumed])
    assert run.metrics.exists() and metrics
    started = [e for e in read_events(run.events) if e["type"] == "run_started"]
    assert [e["resume"] for e in started] == [False, True]
    assert progress.fractions == sorted(progress.fractions) and progress.fractions[-1] == pytest.approx(1.0)
