"""Training curves from a run's events (docs/events.md): loss series per stage, eval mAP/R1, progress.

:class:`TrainingCurves` accumulates events as they arrive (from ``api.EventFollower``) and keeps
plain lists the plots draw. Each point has three x values (:data:`X_AXES`): the epoch (a ``step``
event at step s of S in epoch e sits at ``e + (s + 1) / S``; ``epoch_end`` means sit at ``e + 1``), the
global optimizer step across both stages (stage 2 counts on from stage 1's last step; None where the
steps per epoch are unknown) and the wall time in minutes since the first ``run_started`` (from the
events' ``time``). A resumed run re-emits part of an epoch: points at or after the resumed position
replace the earlier ones, so curves never fold back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


X_AXES = ("epoch", "step", "time")   # the x a curve can be drawn along (time: minutes since the run started)


@dataclass
class Series:
    """One curve: matching x (epochs) and y lists, and each point's global step and wall time (None
    where unknown)."""

    x: list[float] = field(default_factory=list)
    y: list[float] = field(default_factory=list)
    step: list = field(default_factory=list)
    time: list = field(default_factory=list)

    def add(self, x: float, y: float, step: float | None = None, time: float | None = None) -> None:
        """Append a point; a point not after the last one truncates the curve there first (resume)."""
        if self.x and x <= self.x[-1]:
            keep = next((i for i, old in enumerate(self.x) if old >= x), len(self.x))
            del self.x[keep:], self.y[keep:], self.step[keep:], self.time[keep:]
        self.x.append(x)
        self.y.append(y)
        self.step.append(step)
        self.time.append(time)

    def along(self, axis: str = "epoch") -> tuple[list, list]:
        """``(x, y)`` along ``axis`` (one of :data:`X_AXES`), leaving out points whose x is unknown."""
        if axis == "epoch":
            return self.x, self.y
        xs = self.step if axis == "step" else self.time
        if None not in xs:
            return xs, self.y
        pairs = [(x, y) for x, y in zip(xs, self.y) if x is not None]
        return [x for x, _ in pairs], [y for _, y in pairs]

    def __len__(self) -> int:
        return len(self.x)


@dataclass
class Progress:
    """Where the run is: stage, epoch, step (all 0-based as in the events), learning rate."""

    stage: int | None = None
    stage_name: str = ""
    epoch: int | None = None
    epochs: int | None = None
    step: int | None = None
    steps: int | None = None
    lr: float | None = None

    def fraction_of_stage(self) -> float | None:
        """Completed fraction of the current stage (0..1), None when unknown."""
        if self.epoch is None or not self.epochs:
            return None
        within = (self.step + 1) / self.steps if self.step is not None and self.steps else 0.0
        return min(1.0, (self.epoch + within) / self.epochs)

    def describe(self) -> str:
        if self.stage is None:
            return "waiting for the first event"
        text = f"stage {self.stage}" + (f" ({self.stage_name})" if self.stage_name else "")
        if self.epoch is not None:
            text += f" · epoch {self.epoch + 1}/{self.epochs}" if self.epochs else f" · epoch {self.epoch + 1}"
        if self.step is not None and self.steps:
            text += f" · step {self.step + 1}/{self.steps}"
        if self.lr is not None:
            text += f" · lr {self.lr:.2e}"
        return text


def _finite(value) -> float | None:
    try:
        number = float(value)  # events write non-finite numbers as "nan" / "inf" strings
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


class TrainingCurves:
    """Everything the Training panel plots and prints about one run, built from its events."""

    def __init__(self) -> None:
        self.step_losses: dict[int, dict[str, Series]] = {}    # stage -> loss name -> series
        self.epoch_losses: dict[int, dict[str, Series]] = {}   # epoch means (used when no step events)
        self.evals: dict[str, dict[str, Series]] = {}          # dataset -> "mAP"/"R1" -> series (percent)
        self.final_metrics: dict[str, dict] = {}               # dataset -> metrics of the final eval
        self.best_map: dict[str, float] = {}
        self.selection_label = ""                              # which checkpoint the final numbers come from
        self.progress = Progress()
        self.status = "not-started"
        self.errors: list[str] = []
        self.num_events = 0
        self.config: dict | None = None      # the resolved config from the first run_started event
        self.recipe = ""                     # the recipe it follows and what it replaces (run_started's `recipe`)
        self.device = ""
        self.world_size = 1
        self.seconds = 0.0                   # wall time of the finished processes, summed over resumes
        self.last_event_time: float | None = None   # unix time of the newest event folded in
        self.start_time: float | None = None        # unix time of the first run_started (wall-time x = 0)
        self._stage_epochs: dict[int, int] = {}     # stage -> its epochs (stage_started)
        self._stage_steps: dict[int, int] = {}      # stage -> optimizer steps per epoch (step events)
        self._last_step: dict[int, float] = {}      # stage -> the largest global step seen in it

    def add(self, events) -> bool:
        """Fold events in (in file order); returns True when anything plotted changed."""
        changed = False
        for event in events:
            self.num_events += 1
            self.last_event_time = _finite(event.get("time")) or self.last_event_time
            if self.start_time is None and self.last_event_time is not None:
                self.start_time = self.last_event_time   # the first event (run_started) starts the clock
            handler = getattr(self, f"_on_{event.get('type')}", None)
            if handler is not None:
                changed = bool(handler(event)) or changed
        return changed

    def losses(self, stage: int) -> dict[str, Series]:
        """Loss curves of a stage: per-step values when the run logged steps, else epoch means."""
        return self.step_losses.get(stage) or self.epoch_losses.get(stage) or {}

    @property
    def stages(self) -> list[int]:
        return sorted(set(self.step_losses) | set(self.epoch_losses))

    # -- event handlers ------------------------------------------------------------------------
    def _on_run_started(self, event) -> bool:
        self.status = "running"
        if self.config is None and isinstance(event.get("config"), dict):
            self.config = event["config"]
        self.recipe = str(event.get("recipe") or self.recipe)
        self.device, self.world_size = str(event.get("device", "")), int(event.get("world_size", 1) or 1)
        return False

    def _minutes(self) -> float | None:
        """Wall time of the event being folded in: minutes since the run started."""
        if self.last_event_time is None or self.start_time is None:
            return None
        return (self.last_event_time - self.start_time) / 60.0

    def _global_step(self, stage, epochs_done: float) -> float | None:
        """The optimizer step ``epochs_done`` epochs into ``stage``, counting every earlier stage's steps
        (its epochs × steps per epoch; the last step seen when those are unknown); None when this
        stage's steps per epoch are unknown."""
        steps = self._stage_steps.get(stage)
        if not steps:
            return None
        offset = 0.0
        for earlier in sorted(s for s in {*self._stage_steps, *self._stage_epochs, *self._last_step}
                              if isinstance(s, int) and isinstance(stage, int) and s < stage):
            known = self._stage_epochs.get(earlier), self._stage_steps.get(earlier)
            offset += known[0] * known[1] if all(known) else self._last_step.get(earlier, 0.0)
        return offset + epochs_done * steps

    def _on_stage_started(self, event) -> bool:
        if isinstance(event.get("epochs"), int):
            self._stage_epochs[event.get("stage")] = event["epochs"]
        self.progress = Progress(stage=event.get("stage"), stage_name=event.get("name", ""),
                                 epoch=event.get("start_epoch", 0), epochs=event.get("epochs"))
        return False

    def _on_step(self, event) -> bool:
        stage, epoch, step, steps = event.get("stage"), event.get("epoch", 0), event.get("step", 0), event.get("steps")
        x = epoch + (step + 1) / steps if steps else float(epoch)
        if steps:
            self._stage_steps[stage] = steps
        global_step = self._global_step(stage, epoch + (step + 1) / steps) if steps else None
        if global_step is not None:
            self._last_step[stage] = max(self._last_step.get(stage, 0.0), global_step)
        self._add_losses(self.step_losses, stage, (x, global_step, self._minutes()), event.get("losses", {}))
        self.progress.stage, self.progress.epoch = stage, epoch
        self.progress.step, self.progress.steps, self.progress.lr = step, steps, _finite(event.get("lr"))
        return True

    def _on_epoch_end(self, event) -> bool:
        stage, epoch = event.get("stage"), event.get("epoch", 0)
        where = (epoch + 1.0, self._global_step(stage, epoch + 1.0), self._minutes())
        self._add_losses(self.epoch_losses, stage, where, event.get("losses", {}))
        self.progress.stage, self.progress.epoch, self.progress.epochs = stage, epoch, event.get("epochs")
        self.progress.lr = _finite(event.get("lr"))
        return True

    def _on_eval(self, event) -> bool:
        dataset = str(event.get("dataset", "eval"))
        values = {name: _finite(event.get(name)) for name in ("mAP", "R1", "R5", "R10")}
        if event.get("final"):
            self.final_metrics[dataset] = values
            self.selection_label = str(event.get("selection_label") or self.selection_label)
        series = self.evals.setdefault(dataset, {"mAP": Series(), "R1": Series()})
        x = event.get("epoch", 0) + 1.0
        global_step = self._global_step(event.get("stage", 2), x)
        for name in ("mAP", "R1"):
            # a final eval repeats the last periodic one of the first test set; a test set evaluated only
            # at the end (the demo's holistic split) gets its one point from it
            repeated = event.get("final") and series[name].x[-1:] == [x]
            if values[name] is not None and not repeated:
                series[name].add(x, 100.0 * values[name], global_step, self._minutes())
        if values["mAP"] is not None:
            self.best_map[dataset] = max(self.best_map.get(dataset, 0.0), values["mAP"])
        return True

    def _on_error(self, event) -> bool:
        self.errors.append(str(event.get("message", "unknown error")))
        return False

    def _on_run_finished(self, event) -> bool:
        self.status = str(event.get("status", "failed"))
        self.seconds += _finite(event.get("seconds")) or 0.0
        for dataset, values in (event.get("metrics") or {}).items():
            if isinstance(values, dict):
                self.final_metrics.setdefault(dataset, {k: _finite(values.get(k)) for k in ("mAP", "R1", "R5", "R10")})
        return False

    @staticmethod
    def _add_losses(table, stage, where: tuple, losses: dict) -> None:
        """``where``: the points' (epoch x, global step, minutes)."""
        x, step, minutes = where
        curves = table.setdefault(stage, {})
        for name, value in losses.items():
            number = _finite(value)
            if number is not None:
                curves.setdefault(name, Series()).add(x, number, step, minutes)


def describe_config(config: dict | None, device: str = "", world_size: int = 1,
                    recipe: str = "") -> list[tuple[str, str]]:
    """Key settings of a resolved config as (label, value) rows for the run-details box."""
    if not config:
        return []
    data, model = config.get("data", {}), config.get("model", {})
    stage1, stage2 = config.get("stage1", {}), config.get("stage2", {})
    size = "×".join(str(v) for v in data.get("image_size", []))
    rows = [("model", f"{model.get('arch', '?')} · stride {model.get('stride', '?')}"
                      + (" · SIE" if model.get("sie") else "") + f" · weights {model.get('pretrained') or 'random init'}"),
            ("data", f"{data.get('dataset', '?')} · {size} · batch {data.get('ids_per_batch', '?')} ids × "
                     f"{data.get('instances_per_id', '?')}"),
            ("stage 1", f"{stage1.get('epochs', '?')} epochs · lr {stage1.get('lr', '?')} · {stage1.get('scheduler', '')}"),
            ("stage 2", f"{stage2.get('epochs', '?')} epochs · lr {stage2.get('lr', '?')} · {stage2.get('scheduler', '')}"),
            ("seed", str(config.get("seed", "?")) + (f" · {device}" if device else "")
                     + (f" × {world_size} processes" if world_size > 1 else ""))]
    if recipe:   # e.g. the demo's CLIP-ReID: the official losses and batching on the demo's schedule
        rows.append(("recipe", recipe))
    if model.get("method") in ("scing", "cocoop"):
        rows.insert(1, ("prompts", f"{model.get('n_ctx', '?')} tokens · condition {model.get('n_cond', '?')} · "
                                   f"gate {'on' if model.get('gate') else 'off'}"))
    return rows
