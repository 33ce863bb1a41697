"""Whether a run completed, and its final metrics, are decided in one place: ``TrainedRun.status`` /
``run_status`` and ``TrainedRun.final_metrics``. The engine's resume, ``scing train --resume`` and a
study's done runs all ask them."""

from __future__ import annotations

import json

import pytest

from scing_core.runs.events import EventWriter
from scing_core.runs.layout import RunDir
from scing_core.runs.trained import TrainedRun, run_status
from scing_core.study.report import finished_metrics

FINAL = {"synthped": {"mAP": 0.5, "R1": 0.6}}


def _run(tmp_path, *ends: str, metrics: object = None) -> TrainedRun:
    """A run directory whose event log holds ``ends``: "started" or a run_finished status."""
    run = RunDir.at(tmp_path / "run")
    run.root.mkdir(parents=True)
    writer = EventWriter(run.events)
    for end in ends:
        if end == "started":
            writer.emit("run_started", method="scing")
        else:
            writer.emit("run_finished", status=end)
    writer.close()
    if metrics is not None:
        run.metrics.write_text(json.dumps(metrics) if not isinstance(metrics, str) else metrics, encoding="utf-8")
    return TrainedRun(run)


@pytest.mark.parametrize("ends, status", [
    ((), "not-started"),
    (("started",), "running-or-killed"),
    (("started", "completed"), "completed"),
    (("started", "stopped"), "stopped"),
    (("started", "stopped", "started"), "running-or-killed"),   # resumed, not finished (yet)
    (("started", "stopped", "started", "completed"), "completed"),
])
def test_the_status_is_how_the_event_log_ends(tmp_path, ends, status):
    run = _run(tmp_path, *ends)
    assert run.status() == run_status(run.events()) == status


def test_final_metrics_need_a_completed_run_and_its_metrics(tmp_path):
    assert _run(tmp_path / "a", "started", "completed", metrics={"final": FINAL}).final_metrics() == FINAL
    assert _run(tmp_path / "b", "started", "completed").final_metrics() is None                  # no metrics.json
    assert _run(tmp_path / "c", "started", "stopped", metrics={"final": FINAL}).final_metrics() is None
    assert _run(tmp_path / "d", "started", "completed", metrics="{not json").final_metrics() is None
    assert _run(tmp_path / "e", "started", "completed", metrics=[1, 2]).final_metrics() is None


def test_a_study_counts_a_run_done_by_the_same_rule(tmp_path):
    done = _run(tmp_path / "a", "started", "completed", metrics={"final": {**FINAL, "note": "x"}})
    killed_after_metrics = _run(tmp_path / "b", "started", metrics={"final": FINAL})
    assert finished_metrics(done.root) == FINAL      # entries without mAP are not test sets
    assert finished_metrics(killed_after_metrics.root) == {}
