"""What a training run carries around: config, run dir, model, data, device, events, hooks."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

import torch

from scing_core.config import TrainConfig
from scing_core.data import ReIDDataset
from scing_core.runs.events import EventWriter
from scing_core.runs.layout import RunDir


@dataclass
class DistInfo:
    rank: int = 0
    world_size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


@dataclass
class TrainContext:
    cfg: TrainConfig
    run: RunDir
    model: Any                      # scing_core.models.ReIDModel
    dataset: ReIDDataset
    device: torch.device
    events: EventWriter
    dist: DistInfo = field(default_factory=DistInfo)
    hooks: list = field(default_factory=list)
    stop_requested: bool = False    # set by the SIGTERM handler; honoured after the current step
    stop_reason: str = "requested"  # why it stops: "requested" (Stop, SIGTERM, Ctrl-C) or "preempted" (the scheduler's signal)
    best_map: float = -1.0          # model selection: best mAP so far on the selection split
    best_epoch: int = 0             # the stage-2 epochs trained when best_map was reached (best.pt)
    validation: ReIDDataset | None = None  # held-out training identities (model_selection "val")
    pdca: bool = False              # stage 1 runs PDCA (engine.pdca.pdca_enabled, decided in build_context)

    def emit(self, type: str, **fields) -> dict:
        event = self.events.emit(type, **fields)
        if self.dist.is_main:
            for hook in self.hooks:
                hook.on_event(event)
        return event

    @property
    def amp_dtype(self) -> torch.dtype | None:
        """Autocast dtype on CUDA (bf16 when supported, else fp16); None on CPU or when off."""
        if self.device.type != "cuda" or self.cfg.amp == "off":
            return None
        if self.cfg.amp == "fp16":
            return torch.float16
        if self.cfg.amp == "bf16" or torch.cuda.is_bf16_supported():
            return torch.bfloat16
        return torch.float16

    def autocast(self):
        dtype = self.amp_dtype
        if dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type="cuda", dtype=dtype)
