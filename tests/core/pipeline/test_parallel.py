"""Steps run at once (pipeline.parallel.StepGroup): one process per member (or per batch), each
member's outcome logged, a failing optional member reported while the others finish."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from scing_core.pipeline import PipelineProgress, StopFlag, run_steps
from scing_core.pipeline.parallel import StepGroup
from scing_core.pipeline.steps import Step


class WriteStep(Step):
    """Writes its name and the pid and torch thread count it ran with into ``folder``."""

    def __init__(self, folder: Path, name: str, seconds: float = 1.0, fail: bool = False, optional: bool = False,
                 light: bool = False) -> None:
        self.folder, self.name, self.title = Path(folder), name, name
        self.seconds, self.fail, self.optional, self.light = seconds, fail, optional, light

    def expected_seconds(self) -> float:
        return self.seconds

    def is_done(self) -> bool:
        return (self.folder / f"{self.name}.json").exists()

    def run(self, reporter) -> str:
        import torch

        if self.fail:
            raise ValueError(f"{self.name} cannot be built")
        (self.folder / f"{self.name}.json").write_text(json.dumps({"pid": os.getpid(),
                                                                   "threads": torch.get_num_threads()}))
        return "ran"


def ran(folder: Path, name: str) -> dict:
    return json.loads((folder / f"{name}.json").read_text())


def test_members_run_in_processes_of_their_own_and_log_their_own_outcomes(tmp_path):
    steps = [WriteStep(tmp_path, "a"), WriteStep(tmp_path, "b"), WriteStep(tmp_path, "c", fail=True, optional=True)]
    group = StepGroup("group", "three at once", steps, cores=2)
    outcomes, stopped = run_steps([group], PipelineProgress(), StopFlag(), tmp_path / "log.jsonl")
    assert not stopped
    assert [(o.step, o.action) for o in outcomes] == [("a", "ran"), ("b", "ran"), ("c", "failed")]
    assert "c cannot be built" in outcomes[2].note
    pids = {ran(tmp_path, name)["pid"] for name in ("a", "b")}
    assert len(pids) == 2 and os.getpid() not in pids
    logged = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [(e["step"], e["action"]) for e in logged] == [("a", "ran"), ("b", "ran"), ("c", "failed")]
    again, _ = run_steps([group], PipelineProgress(), StopFlag(), tmp_path / "log.jsonl")
    assert [o.action for o in again] == ["skipped", "skipped", "failed"]


def test_a_failing_member_that_is_not_optional_fails_the_group_after_the_others_finish(tmp_path):
    steps = [WriteStep(tmp_path, "a"), WriteStep(tmp_path, "b", fail=True)]
    with pytest.raises(RuntimeError, match="b failed: ValueError: b cannot be built"):
        run_steps([StepGroup("group", "two", steps, cores=2)], PipelineProgress(), StopFlag(), tmp_path / "log.jsonl")
    assert ran(tmp_path, "a")
    logged = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [(e["step"], e["action"]) for e in logged] == [("a", "ran"), ("b", "failed")]


def test_batches_share_a_process_longest_first_and_threads_follow_the_cores(tmp_path):
    steps = [WriteStep(tmp_path, n, seconds) for n, seconds in (("a", 4), ("b", 3), ("c", 2), ("d", 2), ("e", 1))]
    group = StepGroup("figures", "five", steps, processes=2, cores=2)
    batches = group.batches(steps)
    assert [[s.name for s in b] for b in batches] == [["a", "d"], ["b", "c", "e"]]   # 6 s of work each
    assert group.threads_for(batches) == [1, 1]
    light = [[WriteStep(tmp_path, "x", light=True)], [WriteStep(tmp_path, "y")]]
    assert StepGroup("data", "", [], cores=4).threads_for(light) == [1, 4]   # a light one overlaps for seconds: the heavy one has every core
    assert StepGroup("runs", "", [], cores=2).threads_for([[s] for s in steps[:3]]) == [1, 1, 1]
    outcomes, _ = run_steps([group], PipelineProgress(), StopFlag(), tmp_path / "log.jsonl")
    assert [o.action for o in outcomes] == ["ran"] * 5
    assert len({ran(tmp_path, n)["pid"] for n in "abcde"}) == 2
    assert {ran(tmp_path, n)["threads"] for n in "abcde"} == {1}


def test_a_group_with_less_work_than_inline_below_runs_its_members_here_in_turn(tmp_path):
    """A new process costs seconds of imports: short groups (the quick demo's) run in the pipeline's process."""
    steps = [WriteStep(tmp_path, "a", 2), WriteStep(tmp_path, "b", 2), WriteStep(tmp_path, "c", 2, fail=True, optional=True)]

    class Recorder(PipelineProgress):
        def __init__(self):
            self.fractions = []

        def step_progress(self, name, fraction, detail=""):
            self.fractions.append(round(fraction, 3))

    progress = Recorder()
    outcomes, _ = run_steps([StepGroup("group", "short", steps, cores=2, inline_below=10.0)], progress, StopFlag(),
                            tmp_path / "log.jsonl")
    assert [(o.step, o.action) for o in outcomes] == [("a", "ran"), ("b", "ran"), ("c", "failed")]
    assert {ran(tmp_path, n)["pid"] for n in "ab"} == {os.getpid()}
    assert progress.fractions == sorted(progress.fractions)
    steps = [WriteStep(tmp_path, "d", 6), WriteStep(tmp_path, "e", 6)]
    run_steps([StepGroup("group2", "long", steps, cores=2, inline_below=10.0)], PipelineProgress(), StopFlag(),
              tmp_path / "log2.jsonl")
    assert os.getpid() not in {ran(tmp_path, n)["pid"] for n in "de"}
