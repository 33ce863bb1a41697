"""One training run end to end: run dir, dataset, model, stage 1, stage 2, final evaluation."""

from __future__ import annotations

import logging
import time
import traceback


from scing_core.config import TrainConfig, save_config, to_dict
from scing_core.engine import distributed
from scing_core.engine.checkpoint import load_checkpoint, seed_everything
from scing_core.engine.context import TrainContext, resolve_device
from scing_core.engine.evaluate import evaluate_model, load_configured_dataset, test_datasets
from scing_core.engine.events import EventWriter
from scing_core.engine.hooks import CheckpointHook, EvalHook
from scing_core.atomic import write_json_atomic
from scing_core.engine.run_dir import RunDir
from scing_core.engine.stage1 import PromptStage
from scing_core.engine.stage2 import ImageStage
from scing_core.engine.trainer import TrainingStopped, run_stage
from scing_core.errors import DatasetError, ScingError
from scing_core.models import build_model

log = logging.getLogger(__name__)


def build_context(cfg: TrainConfig, run: RunDir, hooks=()) -> TrainContext:
    device = resolve_device(cfg.device)
    dist = distributed.init_from_env(device)
    device = distributed.local_device(device)
    dataset = load_configured_dataset(cfg.data.dataset, cfg.data.root, cfg.data)
    if not dataset.train:
        raise DatasetError(f"dataset '{cfg.data.dataset}' has no training split; train on another dataset and list this one in data.test_datasets")
    seed_everything(cfg.seed)
    model = build_model(cfg, dataset.num_train_pids, dataset.num_cams).to(device)
    events = EventWriter(run.events, enabled=dist.is_main)
    return TrainContext(cfg, run, model, dataset, device, events, dist, hooks=list(hooks))


def _final_evaluation(ctx: TrainContext) -> dict:
    results = {}
    for label, dataset in test_datasets(ctx.cfg, ctx.dataset):
        outcome = evaluate_model(ctx.model, dataset, ctx.cfg, ctx.device, out_dir=ctx.run.eval / label, label=label)
        ctx.emit("eval", stage=2, epoch=ctx.cfg.stage2.epochs - 1, dataset=label, final=True, **outcome.metrics)
        results[label] = outcome.metrics
    return results


def train(cfg: TrainConfig, run_dir, resume: bool = False, hooks=(), ctx_out: list | None = None) -> dict:
    """Train ``cfg`` into ``run_dir``; returns the final metrics per test dataset.

    ``ctx_out``, if given, receives the context (the CLI's SIGTERM handler sets ``stop_requested`` on it).
    A stop request ends the run with a checkpoint and ``run_finished`` status ``stopped``.
    """
    run = RunDir.at(run_dir)
    run.prepare(resume)
    state = load_checkpoint(run.last) if resume and run.last.exists() else None
    ctx = build_context(cfg, run, hooks)
    if ctx_out is not None:
        ctx_out.append(ctx)
    if ctx.dist.is_main and not resume:
        save_config(cfg, run.config)
    ctx.hooks = [CheckpointHook(), *ctx.hooks]
    started = time.time()
    ctx.emit("run_started", run_dir=str(run.root), method=cfg.model.method, dataset=cfg.data.dataset,
             resume=bool(state), world_size=ctx.dist.world_size, device=str(ctx.device),
             config=to_dict(cfg) if not resume else None)
    status, metrics = "failed", {}
    try:
        metrics = _train_stages(ctx, state)
        status = "completed"
    except TrainingStopped:
        status = "stopped"
    except ScingError as exc:
        ctx.emit("error", message=str(exc))
        raise
    except Exception as exc:
        ctx.emit("error", message=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc(limit=8))
        raise
    finally:
        ctx.emit("run_finished", status=status, seconds=round(time.time() - started, 3), metrics=metrics)
        ctx.events.close()
        distributed.shutdown(ctx.dist)
    return metrics


def _train_stages(ctx: TrainContext, state: dict | None) -> dict:
    stage_index, epoch, step, rng = 1, 0, 0, None
    if state is not None:
        ctx.model.load_state_dict(state["model"])
        stage_index, epoch, step = int(state["stage"]), int(state["epoch"]), int(state["step_in_epoch"])
        ctx.best_map = float(state.get("best", -1.0))
        rng = state.get("rng")
    if stage_index == 1:
        stage = PromptStage(ctx)
        if state is not None:
            stage.load_state_dict(state.get("stage_state", {}))
        run_stage(ctx, stage, epoch, step, rng)
        prototypes = stage.prototypes
        del stage
        epoch, step, state = 0, 0, None
    else:
        prototypes = load_checkpoint(ctx.run.prototypes)["prototypes"]
    label, eval_ds = test_datasets(ctx.cfg, ctx.dataset)[0]
    ctx.hooks.append(EvalHook(eval_ds, label))
    stage2 = ImageStage(ctx, prototypes)
    if state is not None and stage_index == 2:
        stage2.load_state_dict(state.get("stage_state", {}))
    run_stage(ctx, stage2, epoch, step, rng if stage_index == 2 else None)
    metrics = {}
    if ctx.dist.is_main:
        metrics = _final_evaluation(ctx)
        write_json_atomic(ctx.run.metrics, {"method": ctx.cfg.model.method, "seed": ctx.cfg.seed, "best_mAP": ctx.best_map, "final": metrics})
    distributed.barrier(ctx.dist)
    return metrics
