"""The Stage interface: a stage defines batches and a loss; the loop and the optimizer step are shared."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from scing_core.engine.context import DistInfo

from scing_core.config import StageConfig
from scing_core.engine.stage import Stage
from scing_core.engine.stage2 import ImageStage
from scing_core.engine.trainer import Hook, run_stage
from scing_core.models import create_reid_model, build_model

from tests.support import tiny_context


class LineFit(Stage):
    """A made-up stage: fit y = 3x with one weight, four batches an epoch."""

    index, name = 7, "line fit"

    def __init__(self, cfg: StageConfig, hooks=()) -> None:
        self.weight = torch.nn.Parameter(torch.zeros(1))
        super().__init__(cfg, torch.optim.SGD([{"params": [self.weight], "initial_lr": cfg.lr}], lr=cfg.lr), fp16=False)
        self.hooks = tuple(hooks)

    def batches_in_epoch(self) -> int:
        return 4

    def epoch_batches(self, epoch: int, skip: int = 0):
        return [torch.full((2,), float(i + 1)) for i in range(self.steps_per_epoch)][skip:]

    def loss(self, batch):
        total = ((self.weight * batch - 3 * batch) ** 2).mean()
        return total, {"total": total.item()}


class Recorder(Hook):
    def __init__(self, name: str, calls: list) -> None:
        self.name, self.calls = name, calls

    def after_epoch(self, ctx, stage, epoch):
        self.calls.append((self.name, epoch))


def loop_context(hooks) -> SimpleNamespace:
    events = []
    return SimpleNamespace(cfg=SimpleNamespace(seed=0, log_every=0), hooks=list(hooks), stop_requested=False,
                           dist=DistInfo(), device=torch.device("cpu"),
                           events=events, emit=lambda type, **fields: events.append(type))


def test_a_new_stage_defines_batches_and_a_loss_and_the_loop_does_the_rest():
    calls = []
    cfg = StageConfig(epochs=3, lr=0.03, scheduler="constant", warmup_epochs=0, milestones=(), steps_per_epoch=3)
    stage = LineFit(cfg, hooks=[Recorder("stage", calls)])
    steps = []
    stage.optimizer.step = (lambda step: lambda *a, **k: steps.append(1) or step(*a, **k))(stage.optimizer.step)
    ctx = loop_context([Recorder("run", calls)])
    run_stage(ctx, stage)
    assert len(steps) == 3 * 3                      # one optimizer step per batch, steps_per_epoch caps the epoch
    assert stage.weight.item() == pytest.approx(3.0, abs=0.5)
    assert calls == [(who, e) for e in range(3) for who in ("run", "stage")]  # the stage's hooks after the run's
    assert ctx.events.count("epoch_end") == 3 and ctx.events[-1] == "stage_finished"


def test_gradient_clipping_and_the_optimizer_state_are_the_stages_alike():
    cfg = StageConfig(epochs=1, lr=0.1, grad_clip=1e-3, scheduler="constant", warmup_epochs=0, milestones=())
    stage = LineFit(cfg)
    stage.run_step(torch.tensor([10.0]))
    assert stage.weight.item() == pytest.approx(0.1 * 1e-3, rel=1e-4)  # the gradient was clipped to norm 1e-3
    fresh = LineFit(cfg)
    fresh.load_state_dict(stage.state_dict())
    assert set(stage.state_dict()) == {"optimizer", "scaler"}
    assert fresh.optimizer.state_dict()["state"].keys() == stage.optimizer.state_dict()["state"].keys()


def test_stage2_keeps_one_loader_for_every_epoch(tiny_synthped, tmp_path):
    ctx = tiny_context("occluded_duke/scing", tiny_synthped, tmp_path / "run")
    stage = ImageStage.from_context(ctx, torch.randn(ctx.model.num_classes, 512))
    loaders = {id(stage.epoch_batches(epoch)) for epoch in range(3)}
    assert len(loaders) == 1
    first = [b[3].tolist() for b in stage.epoch_batches(0)]
    assert first != [b[3].tolist() for b in stage.epoch_batches(1)]
    assert [b[3].tolist() for b in stage.epoch_batches(0, skip=1)] == first[1:]


def test_create_reid_model_takes_explicit_arguments_and_build_model_maps_a_config_onto_them(tiny_synthped, tmp_path):
    ctx = tiny_context("occluded_duke/scing", tiny_synthped, tmp_path / "run")
    explicit = create_reid_model(ctx.cfg.model, (64, 32), num_classes=5, num_cams=3)
    configured = build_model(ctx.cfg, num_classes=5, num_cams=3)
    assert explicit.backbone.image_size == configured.backbone.image_size
    assert [n for n, _ in explicit.named_parameters()] == [n for n, _ in configured.named_parameters()]
