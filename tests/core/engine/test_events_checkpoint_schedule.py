import math

import pytest
import torch

from scing_core.config import StageConfig
from scing_core.engine.seeding import capture_rng, restore_rng
from scing_core.runs.checkpoints import load_checkpoint, save_checkpoint
from scing_core.runs.events import EventFollower, EventWriter, read_events
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


def test_multistep_with_warmup_follows_clipreids_warmup_multistep_lr():
    # CLIP-ReID steps WarmupMultiStepLR before each epoch: 0-based epoch e runs at t = e + 1
    cfg = StageConfig(epochs=60, lr=1.0, milestones=(30, 50), gamma=0.1, warmup_epochs=10, warmup_factor=0.1)
    assert lr_factor(cfg, 0) == pytest.approx(0.19)
    assert lr_factor(cfg, 4) == pytest.approx(0.55)
    assert lr_factor(cfg, 9) == pytest.approx(1.0)
    assert lr_factor(cfg, 28) == pytest.approx(1.0)
    assert lr_factor(cfg, 29) == pytest.approx(0.1)     # the 30th epoch already runs decayed
    assert lr_factor(cfg, 49) == pytest.approx(0.01)


def test_cosine_follows_timms_scheduler_as_clipreid_configures_it():
    base, init, floor, warmup, epochs = 3.5e-4, 1e-5, 1e-6, 5, 120
    cfg = StageConfig(epochs=epochs, lr=base, scheduler="cosine", warmup_epochs=warmup, warmup_factor=init / base,
                      min_lr=floor)

    def timm_lr(t):  # CosineLRScheduler(t_initial=120, lr_min=1e-6, warmup_lr_init=1e-5, warmup_t=5), t = epoch
        if t < warmup:
            return init + t * (base - init) / warmup
        if t >= epochs:
            return floor
        return floor + 0.5 * (base - floor) * (1 + math.cos(math.pi * t / epochs))

    for epoch in range(epochs):
        assert base * lr_factor(cfg, epoch) == pytest.approx(timm_lr(epoch + 1), rel=1e-9, abs=1e-15)
    assert base * lr_factor(cfg, 0) == pytest.approx(7.8e-5)