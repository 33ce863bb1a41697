"""Rebuild a trained model from a run directory or a checkpoint file (no pretrained download)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

from scing_core.config import TrainConfig
from scing_core.config.io import from_dict
from scing_core.engine.checkpoint import load_checkpoint
from scing_core.engine.context import resolve_device
from scing_core.engine.run_dir import RunDir
from scing_core.errors import CheckpointError
from scing_core.models import build_model


def model_from_checkpoint(state: dict, device="cpu", cfg: TrainConfig | None = None):
    """``(model, cfg)`` from a loaded checkpoint dict; weights come from the checkpoint only."""
    if cfg is None:
        if "config" not in state:
            raise CheckpointError("checkpoint has no config; pass the run directory instead")
        cfg = from_dict(state["config"])
    if "num_classes" not in state:
        raise CheckpointError("checkpoint does not record num_classes; was it written by `scing train`?")
    build_cfg = dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, pretrained=""))
    model = build_model(build_cfg, int(state["num_classes"]), int(state.get("num_cams", 1)))
    missing, unexpected = model.load_state_dict(state["model"], strict=False)
    if missing or unexpected:
        raise CheckpointError(
            f"checkpoint does not fit the {cfg.model.method}/{cfg.model.arch} model: {len(missing)} missing and "
            f"{len(unexpected)} unexpected keys (e.g. {(missing or unexpected)[:3]})"
        )
    return model.to(device).eval(), cfg


def load_run_model(run_dir, checkpoint: str = "selected", device: str = "auto"):
    """``(model, cfg, checkpoint_path)`` for a run; ``checkpoint`` is selected | best | last | stage1 | a path."""
    run = RunDir.at(run_dir)
    run.require()
    path = run.checkpoint(checkpoint)
    state = load_checkpoint(path)
    dev = resolve_device(device)
    model, cfg = model_from_checkpoint(state, dev)
    return model, cfg, Path(path)


def load_prototypes(run_dir) -> torch.Tensor:
    """The run's class text prototypes [C, E] (L2-normalised)."""
    run = RunDir.at(run_dir)
    return load_checkpoint(run.prototypes)["prototypes"]
