"""One training run end to end: run dir, dataset, model, stage 1, stage 2, final evaluation."""

from __future__ import annotations

import logging
import os
import time
import traceback

import torch

from scing_core.config import TrainConfig, save_config, to_dict
from scing_core.config.recipes import describe_recipe
from scing_core.engine import distributed
from scing_core.data.val_split import hold_out_validation
from scing_core.runs.checkpoints import load_checkpoint
from scing_core.engine.seeding import seed_everything
from scing_core.device import resolve_device
from scing_core.engine.context import TrainContext
from scing_core.engine.evaluate import evaluate_model
from scing_core.data.configured import load_configured_dataset, test_datasets
from scing_core.runs.events import EventWriter
from scing_core.engine.hooks import CheckpointHook, EvalHook
from scing_core.atomic import write_json_atomic
from scing_core.runs.layout import RunDir
from scing_core.runs.trained import TrainedRun
from scing_core.runs.lock import RunLock
from scing_core.engine.selection import selection_label, selection_record
from scing_core.engine.pdca import pdca_enabled
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
    validation = None
    if cfg.model_selection == "val":
        dataset, validation = hold_out_validation(dataset, cfg.data.val_ids, min_train_ids=cfg.data.ids_per_batch)
    seed_everything(cfg.seed)
    if cfg.model.sie and not dataset.real_cameras:
        log.warning("model.sie: %s's camera ids are not cameras (occluded / whole-body image kinds): trained "
                    "without SIE", dataset.name)
    model = build_model(cfg, dataset.num_train_pids, dataset.sie_cameras).to(device)
    pdca = pdca_enabled(cfg, model)   # decided once, before any work: a ConfigError when it cannot run
    events = EventWriter(run.events, enabled=dist.is_main)
    return TrainContext(cfg, run, model, dataset, device, events, dist, hooks=list(hooks), validation=validation,
                        pdca=pdca)


def _evaluate_test_sets(ctx: TrainContext, epoch: int, write: bool, reported: bool) -> dict:
    results = {}
    extra = {"selection_label": selection_label(ctx.cfg)} if reported else {}
    for label, dataset in test_datasets(ctx.cfg, ctx.dataset):
        out_dir = ctx.run.eval / label if write else None
        outcome = evaluate_model(ctx.model, dataset, ctx.cfg, ctx.device, out_dir=out_dir, label=label,
                                 descriptors=reported)
        ctx.emit("eval", stage=2, epoch=epoch - 1, dataset=label, final=reported, **extra, **outcome.metrics)
        results[label] = outcome.metrics
    return results


def _final_evaluation(ctx: TrainContext) -> dict:
    """Evaluate the reported checkpoint on every test set (its artefacts go to ``eval/``) and write
    metrics.json with the model selection that chose it (``scing_core.engine.selection``)."""
    cfg, last = ctx.cfg, ctx.cfg.stage2.epochs
    record = {"method": cfg.model.method, "seed": cfg.seed}
    if cfg.model_selection == "final" or not ctx.run.best.exists():
        selected = last
        final = _evaluate_test_sets(ctx, last, write=True, reported=True)
    else:
        record["last_epoch"] = _evaluate_test_sets(ctx, last, write=False, reported=False)
        ctx.model.load_state_dict(load_checkpoint(ctx.run.best)["model"])
        selected = ctx.best_epoch
        final = _evaluate_test_sets(ctx, selected, write=True, reported=True)
    record["selection"] = selection_record(cfg, selected, ctx.best_map if cfg.model_selection != "final" else None)
    record["final"] = final
    write_json_atomic(ctx.run.metrics, record)
    return final


def _stage2_prototypes(ctx: TrainContext, stage1: PromptStage | None) -> torch.Tensor:
    """The class prototypes stage 2 trains against: raw text features for CLIP-ReID's dot-product
    logits (``loss.i2t_similarity: dot``), L2-normalised ones otherwise."""
    raw = ctx.cfg.loss.i2t_similarity == "dot"
    if stage1 is not None:
        return stage1.raw_prototypes if raw else stage1.prototypes
    return TrainedRun(ctx.run).prototypes(raw=raw)   # a resumed stage 2: the saved prototypes


def train(cfg: TrainConfig, run_dir, resume: bool = False, hooks=(), ctx_out: list | None = None) -> dict:
    """Train ``cfg`` into ``run_dir``; returns the final metrics per test dataset.

    ``ctx_out``, if given, receives the context (the CLI's SIGTERM handler sets ``stop_requested`` on it).
    A stop request ends the run with a checkpoint and ``run_finished`` status ``stopped``.
    """
    run = RunDir.at(run_dir)
    run.prepare(resume)
    with RunLock(run.root, enabled=int(os.environ.get("RANK", "0")) == 0):
        finished = TrainedRun(run).final_metrics() if resume else None
        if finished is not None:
            log.info("run %s already finished; nothing to resume", run.root)
            return finished
        return _train(cfg, run, resume, hooks, ctx_out)


def _train(cfg: TrainConfig, run: RunDir, resume: bool, hooks, ctx_out) -> dict:
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
             activation=ctx.model.backbone.activation, cpu_threads=torch.get_num_threads(),
             recipe=describe_recipe(to_dict(cfg)), sie_cameras=ctx.model.backbone.sie_cameras,
             config=to_dict(cfg) if not state else None)   # a launcher's job starts "resumed" from config.yaml alone
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
        extra = {"reason": ctx.stop_reason} if status == "stopped" else {}
        ctx.emit("run_finished", status=status, seconds=round(time.time() - started, 3), metrics=metrics, **extra)
        ctx.events.close()
        distributed.shutdown(ctx.dist)
    return metrics


def _train_stages(ctx: TrainContext, state: dict | None) -> dict:
    stage_index, epoch, step, rng = 1, 0, 0, None
    if state is not None:
        ctx.model.load_state_dict(state["model"])
        stage_index, epoch, step = int(state["stage"]), int(state["epoch"]), int(state["step_in_epoch"])
        ctx.best_map = float(state.get("best", -1.0))
        ctx.best_epoch = int(state.get("best_epoch", 0))
        rng = state.get("rng")
    if stage_index == 1:
        stage = PromptStage.from_context(ctx)
        if state is not None:
            stage.load_state_dict(state.get("stage_state", {}))
        run_stage(ctx, stage, epoch, step, rng)
        prototypes = _stage2_prototypes(ctx, stage)
        del stage
        epoch, step, state = 0, 0, None
    else:
        prototypes = _stage2_prototypes(ctx, None)
    if ctx.cfg.model_selection == "val":
        label, eval_ds = "val", ctx.validation
    else:
        label, eval_ds = test_datasets(ctx.cfg, ctx.dataset)[0]
    evaluation = EvalHook(eval_ds, label, selects=ctx.cfg.model_selection != "final")
    stage2 = ImageStage.from_context(ctx, prototypes, hooks=(evaluation,))
    if state is not None and stage_index == 2:
        stage2.load_state_dict(state.get("stage_state", {}))
    run_stage(ctx, stage2, epoch, step, rng if stage_index == 2 else None)
    metrics = {}
    if ctx.dist.is_main:
        metrics = _final_evaluation(ctx)
    distributed.barrier(ctx.dist)
    return metrics
