"""A finished (or running) run directory as one object: ``TrainedRun``.

``TrainedRun.open(run_dir)`` gives the run's config, status, metrics, events, checkpoints, class
prototypes and eval folders, and rebuilds its model from a checkpoint (weights from the checkpoint
only: no pretrained download). Analysis, the demo, studies, ``scing_core.api`` and the studio load
runs through it; the engine writes them. It sits below the engine (it imports nothing of it).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from scing_core.config import TrainConfig, load_config
from scing_core.config.io import from_dict
from scing_core.runs.checkpoints import load_checkpoint
from scing_core.runs.layout import RunDir
from scing_core.errors import CheckpointError, ScingError
from scing_core.runs.events import read_events

if TYPE_CHECKING:   # torch and the models load when a model is rebuilt, not with this module
    import torch


def model_from_checkpoint(state: dict, device="cpu", cfg: TrainConfig | None = None):
    """``(model, cfg)`` from a loaded checkpoint dict; weights come from the checkpoint only, and the
    network is the one that was trained: its recorded activation (:func:`checkpoint_activation`)."""
    from scing_core.models import build_model   # torch and open_clip load here, not with the module
    if cfg is None:
        if "config" not in state:
            raise CheckpointError("checkpoint has no config; pass the run directory instead")
        cfg = from_dict(state["config"])
    if "num_classes" not in state:
        raise CheckpointError("checkpoint does not record num_classes; was it written by `scing train`?")
    model_cfg = dataclasses.replace(cfg.model, pretrained="", activation=checkpoint_activation(state, cfg))
    model = build_model(dataclasses.replace(cfg, model=model_cfg), int(state["num_classes"]), int(state.get("num_cams", 1)))
    missing, unexpected = model.load_state_dict(state["model"], strict=False)
    if missing or unexpected:
        raise CheckpointError(
            f"checkpoint does not fit the {cfg.model.method}/{cfg.model.arch} model: {len(missing)} missing and "
            f"{len(unexpected)} unexpected keys (e.g. {(missing or unexpected)[:3]})"
        )
    return model.to(device).eval(), cfg


def checkpoint_activation(state: dict, cfg: TrainConfig) -> str:
    """The activation the checkpoint's network was built with: its record; for checkpoints written before
    the record, the config's setting, "auto" resolved against the weights it trained from."""
    recorded = state.get("activation")
    if recorded in ("gelu", "quick_gelu"):
        return str(recorded)
    if cfg.model.activation != "auto":
        return cfg.model.activation
    from scing_core.models.weights import resolve_activation   # here: torch and open_clip, as in model_from_checkpoint

    source = cfg.model.pretrained
    if source and ("/" in source or "\\" in source or Path(source).suffix) and not Path(source).expanduser().is_file():
        raise CheckpointError(
            f"this checkpoint does not record its activation and the weights it trained from ('{source}') are gone, "
            "so QuickGELU vs GELU cannot be told; add `activation: quick_gelu` (OpenAI's CLIP weights) or "
            "`activation: gelu` under `model:` in the run's config.yaml")
    return resolve_activation(cfg.model.arch, source)[0]


def load_run_model(run_dir, checkpoint: str = "selected", device: str = "auto"):
    """``(model, cfg, checkpoint_path)`` for a run; ``checkpoint`` is selected | best | last | stage1 | a path."""
    return TrainedRun.open(run_dir).load_model(checkpoint, device)


def load_prototypes(run_dir) -> torch.Tensor:
    """The run's class text prototypes [C, E] (L2-normalised)."""
    return TrainedRun(RunDir.at(run_dir)).prototypes()


def run_status(events: list[dict]) -> str:
    """How a run's event log ends: the status of its last ``run_finished`` (completed | stopped | failed)
    when it follows the last ``run_started``; running-or-killed when the run started again, or never
    finished, since; not-started without a ``run_started``."""
    ends = [e for e in events if e.get("type") in ("run_started", "run_finished")]
    if not any(e["type"] == "run_started" for e in ends):
        return "not-started"
    if ends[-1]["type"] == "run_finished":
        return str(ends[-1].get("status", "failed"))
    return "running-or-killed"


class LoadedModel(NamedTuple):
    """A run's model rebuilt for analysis: ``model, config, prototypes = run.load(...)``."""

    model: torch.nn.Module
    config: TrainConfig
    prototypes: torch.Tensor | None   # [C, E] L2-normalised class text prototypes, when asked for


@dataclass(frozen=True)
class TrainedRun:
    """One run directory (it holds config.yaml). See the module docstring."""

    layout: RunDir

    @classmethod
    def open(cls, run_dir) -> "TrainedRun":
        """The run at ``run_dir``; a RunDirError when the folder is not a run directory."""
        layout = RunDir.at(run_dir)
        layout.require()
        return cls(layout)

    @property
    def root(self) -> Path:
        return self.layout.root

    @cached_property
    def config(self) -> TrainConfig:
        return load_config(self.layout.config)

    def events(self) -> list[dict]:
        return read_events(self.layout.events)

    def status(self, events: list[dict] | None = None) -> str:
        """completed | stopped | failed | running-or-killed | not-started: :func:`run_status` of its events."""
        return run_status(self.events() if events is None else events)

    def final_metrics(self, events: list[dict] | None = None) -> dict | None:
        """``{test set: metrics}`` of a run that completed (its status is ``completed`` and metrics.json
        holds its final evaluation), else None. The one place that says whether a run is done: resuming
        it changes nothing, a study counts it, the CLI reports it."""
        if self.status(events) != "completed" or not self.layout.metrics.is_file():
            return None
        try:
            final = self.metrics().get("final") or {}
        except ScingError:
            return None
        if not isinstance(final, dict):
            return None
        return {label: m for label, m in final.items() if isinstance(m, dict) and "mAP" in m}

    def metrics(self) -> dict:
        """metrics.json (``{}`` until the run finished); a ScingError when it holds garbage."""
        path = self.layout.metrics
        if not path.exists():
            return {}
        try:
            metrics = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ScingError(f"metrics.json is unreadable ({type(exc).__name__}); re-evaluate the run with "
                             "`scing eval`, or delete the file") from None
        if not isinstance(metrics, dict):
            raise ScingError("metrics.json does not hold a mapping; re-evaluate the run with `scing eval`, or delete it")
        return metrics

    def checkpoint(self, which: str = "selected") -> Path:
        return self.layout.checkpoint(which)

    def eval_folders(self) -> list[str]:
        return self.layout.eval_folders()

    def prototypes(self, raw: bool = False) -> torch.Tensor:
        """Class text prototypes [C, E]: L2-normalised, or the raw text features (``raw``, CLIP-ReID's
        dot-product logits) when the run kept them."""
        saved = load_checkpoint(self.layout.prototypes)
        if raw and "raw" not in saved:
            raise CheckpointError(f"'{self.layout.prototypes}' holds no raw prototypes (its run used cosine logits)")
        return saved["raw"] if raw else saved["prototypes"]

    def load_model(self, checkpoint: str = "selected", device: str = "auto") -> tuple[torch.nn.Module, TrainConfig, Path]:
        """``(model, config, checkpoint path)``, the model in eval mode on ``device``."""
        from scing_core.device import resolve_device   # here: torch, as in model_from_checkpoint

        path = self.checkpoint(checkpoint)
        model, cfg = model_from_checkpoint(load_checkpoint(path), resolve_device(device))
        return model, cfg, Path(path)

    def load(self, checkpoint: str = "selected", device: str = "auto", prototypes: bool = True) -> LoadedModel:
        """The model (and, with ``prototypes``, the class prototypes) for analysis."""
        model, cfg, _ = self.load_model(checkpoint, device)
        return LoadedModel(model, cfg, self.prototypes() if prototypes else None)
