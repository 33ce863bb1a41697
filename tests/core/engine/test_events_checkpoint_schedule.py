import math

import pytest
import torch

from scing_core.config import StageConfig
from scing_core.engine.checkpoint import capture_rng, load_checkpoint, restore_rng, save_checkpoint
from scing_core.engine.events import EventFollower, EventWriter, read_events
from scing_core.engine.schedule import lr_factor
from scing_core.errors import CheckpointError


def test_events_are_versioned_lines_and_follower_sees_only_complete_ones(tmp_path):
    path = tmp_path / "events.jsonl"
    writer = EventWriter(path)
    follower = EventFollower(path)
    writer.emit("run_started", method="scing")
    assert [e["type"] for e in follower.poll()] == ["run_started"]
    with open(path, "a") as fh:  # a half-written line must not be returned yet
        fh.write('{"v": 1, "type": "step"')
    assert follower.poll() == []
    with open(path, "a") as fh:
        fh.write(', "time": 1}\n')
    assert [e["type"] for e in follower.poll()] == ["step"]
    writer.emit("epoch_end", losses={"total": float("nan")})
    events = read_events(path)
    assert all(e["v"] == 1 and "time" in e for e in events)
    assert events[-1]["losses"]["total"] == "nan"  # JSON has no NaN
    with pytest.raises(ValueError, match="unknown event type"):
        writer.emit("finished")


def test_disabled_writer_writes_nothing(tmp_path):
    EventWriter(tmp_path / "e.jsonl", enabled=False).emit("run_started")
    assert not (tmp_path / "e.jsonl").exists()


def test_checkpoint_is_atomic_and_loads_with_weights_only(tmp_path):
    path = tmp_path / "ck" / "last.pt"
    state = {"model": {"w": torch.ones(2)}, "epoch": 3, "rng": capture_rng(), "config": {"a": [1, 2]}}
    save_checkpoint(state, path)
    assert [p.name for p in path.parent.iterdir()] == ["last.pt"]  # no temp file left behind
    loaded = load_checkpoint(path)
    assert loaded["epoch"] == 3 and torch.equal(loaded["model"]["w"], torch.ones(2))
    torch.manual_seed(5)
    restore_rng(loaded["rng"])  # restoring the captured state replays the same numbers
    a = torch.rand(3)
    restore_rng(loaded["rng"])
    assert torch.equal(a, torch.rand(3))


def test_unreadable_checkpoint_gives_one_clear_error(tmp_path):
    bad = tmp_path / "notes.pt"
    bad.write_text("not a checkpoint")
    with pytest.raises(CheckpointError, match="not a readable SCING checkpoint"):
        load_checkpoint(bad)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.pt")


def test_multistep_with_warmup_and_cosine_factors():
    cfg = StageConfig(epochs=60, lr=1.0, milestones=(30, 50), gamma=0.1, warmup_epochs=10, warmup_factor=0.1)
    assert lr_factor(cfg, 0) == pytest.approx(0.1)
    assert lr_factor(cfg, 5) == pytest.approx(0.55)
    assert lr_factor(cfg, 10) == pytest.approx(1.0)
    assert lr_factor(cfg, 30) == pytest.approx(0.1)
    assert lr_factor(cfg, 55) == pytest.approx(0.01)
    cos = StageConfig(epochs=120, lr=1e-3, scheduler="cosine", warmup_epochs=5, warmup_factor=0.01, min_lr=1e-6)
    assert lr_factor(cos, 5) == pytest.approx(1.0)
    assert lr_factor(cos, 119) < 0.01 and lr_factor(cos, 119) >= 1e-3
    assert math.isclose(lr_factor(cos, 62), 0.5 * (1 + 1e-3), rel_tol=0.05)
