"""The demo's build steps: SynthPed (holistic + occluded), SynthCLIP, and the three training runs.

A step knows its expected duration (for the ETA), whether its outputs are complete (then it is
skipped), and how to build or finish them: an interrupted SynthPed (its incomplete marker) is
regenerated, an interrupted run (config.yaml but no metrics.json) continues with
``train(..., resume=True)``. The analysis figures are in :mod:`scing_core.demo.figures`.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil

from scing_core.config import TrainConfig, load_config, resolve_config, to_dict
from scing_core.models.prompts import method_title
from scing_core.demo.progress import DemoStopped, StepReporter
from scing_core.demo.workspace import METHODS, DemoSettings, DemoWorkspace, read_json
from scing_core.runs.layout import RunDir
from scing_core.engine.trainer import Hook
from scing_core.errors import InputError

log = logging.getLogger(__name__)

# Seconds of work, measured on this project's 2-core CPU when idle (docs/demo-report.md), keyed by
# quick: they only feed the ETA, which the progress view corrects with the pace it observes.
SYNTHPED_IMAGES_PER_SECOND = 250.0
SYNTHCLIP_SECONDS = {True: 22.0, False: 60.0}
RUN_SECONDS = {True: 5.0, False: 32.0}
STAGE1_SHARE = {True: 0.3, False: 0.2}   # share of a run's time spent before stage 2 (cache + prompts)
RUN_LEFTOVERS = set(RunDir.EARLY_ENTRIES)  # what a run writes before its config.yaml


class Step:
    """One unit of the build. Subclasses set ``name`` / ``title`` and implement the methods."""

    name = ""
    title = ""

    def __init__(self, ws: DemoWorkspace, settings: DemoSettings) -> None:
        self.ws, self.settings = ws, settings

    def expected_seconds(self) -> float:
        """Expected duration on a 2-core CPU when the step runs from scratch."""
        raise NotImplementedError

    def is_done(self) -> bool:
        """True when the step's outputs are complete (the step is then skipped)."""
        raise NotImplementedError

    def unavailable_reason(self) -> str:
        """Why the step cannot run in this installation ('' = it can)."""
        return ""

    def run(self, reporter: StepReporter) -> str:
        """Build (or finish) the outputs; returns ``ran`` or ``resumed``."""
        raise NotImplementedError


# ------------------------------------------------------------------------------------ SynthPed

class SynthPedStep(Step):
    """SynthPed (``holistic``) or SynthPed-Occluded (``occluded``): same seed, same people and files."""

    def __init__(self, ws, settings, split: str) -> None:
        super().__init__(ws, settings)
        self.split = split
        self.name = f"data/{split}"
        self.title = "SynthPed-Occluded" if split == "occluded" else "SynthPed"
        self.folder = ws.dataset(split)

    def parameters(self) -> dict:
        s = self.settings
        return dict(ids=s.ids, images_per_id=s.images_per_id, cams=s.cams, size=list(s.size),
                    occluded=self.split == "occluded", seed=s.seed, distractors=s.distractors,
                    identity_seed=s.seed, pid_offset=0)

    def expected_seconds(self) -> float:
        s = self.settings
        return (s.ids * s.images_per_id + s.distractors) / SYNTHPED_IMAGES_PER_SECOND

    def is_done(self) -> bool:
        from scing_core.data.synthped import synthped_state

        meta = read_json(self.folder / "meta.json")
        return synthped_state(self.folder) == "complete" and bool(meta) and meta.get("parameters") == self.parameters()

    def run(self, reporter: StepReporter) -> str:
        from scing_core.data.synthped import generate_synthped, synthped_state

        previous = synthped_state(self.folder)
        params = self.parameters()
        generate_synthped(self.folder, ids=params["ids"], images_per_id=params["images_per_id"], cams=params["cams"],
                          size=tuple(params["size"]), occluded=params["occluded"], seed=params["seed"],
                          distractors=params["distractors"], identity_seed=params["identity_seed"],
                          progress=lambda done, total: reporter.count(done, total, f"{done}/{total} images"),
                          overwrite=previous is not None)
        return "resumed" if previous == "incomplete" else "ran"


# ------------------------------------------------------------------------------------ SynthCLIP

class SynthClipStep(Step):
    """Pre-train SynthCLIP on SynthPed captions of people disjoint from the demo's (cached)."""

    name = "synthclip"
    title = "SynthCLIP pre-training"

    def expected_seconds(self) -> float:
        return SYNTHCLIP_SECONDS[self.settings.quick]

    def unavailable_reason(self) -> str:
        import importlib.util

        if importlib.util.find_spec("scing_core.pretrain.synthclip") is None:
            return "scing_core.pretrain.synthclip is not installed"
        return ""

    def is_done(self) -> bool:
        return self.ws.synthclip.is_file() and read_json(self.ws.synthclip_metrics) is not None

    def run(self, reporter: StepReporter) -> str:
        from scing_core.pretrain.synthclip import train_synthclip

        resumed = self.ws.synthclip.exists() or self.ws.synthclip_data.exists()
        self.ws.synthclip.parent.mkdir(parents=True, exist_ok=True)
        train_synthclip(str(self.ws.synthclip), seed=self.settings.seed, data_dir=str(self.ws.synthclip_data),
                        quick=self.settings.quick, ids=self.settings.synthclip_ids,
                        epochs=self.settings.synthclip_epochs, progress=_fraction_callback(reporter))
        return "resumed" if resumed else "ran"


def _fraction_callback(reporter: StepReporter):
    """Adapt ``progress(done, total[, ...])`` or ``progress(fraction)`` calls to the reporter."""

    def progress(*args, **kwargs):
        if len(args) >= 2 and isinstance(args[0], (int, float)) and isinstance(args[1], (int, float)):
            reporter.count(int(args[0]), int(args[1]), str(args[2]) if len(args) > 2 else "")
        elif args and isinstance(args[0], (int, float)):
            reporter.fraction(float(args[0]))
        elif args and isinstance(args[0], dict) and "fraction" in args[0]:
            reporter.fraction(float(args[0]["fraction"]))

    return progress


# ------------------------------------------------------------------------------------ runs

def demo_config(ws: DemoWorkspace, settings: DemoSettings, method: str) -> TrainConfig:
    """``synthped_occluded/<method>/<variant>`` pointed at the workspace: trains on SynthPed-Occluded
    with SynthCLIP weights, evaluates on the occluded and the holistic test splits."""
    cfg = resolve_config(f"synthped_occluded/{method}/{settings.variant}", [f"seed={settings.seed}"])
    tests = tuple(f"synthped@{ws.dataset(split)}" for split in ("occluded", "holistic"))
    data = dataclasses.replace(cfg.data, root=str(ws.dataset("occluded")), test_datasets=tests,
                               image_size=tuple(settings.size))
    model = dataclasses.replace(cfg.model, pretrained=str(ws.synthclip))
    return dataclasses.replace(cfg, data=data, model=model)


class RunProgressHook(Hook):
    """Maps the trainer's steps onto the step reporter; turns a stop request into the engine's stop."""

    def __init__(self, reporter: StepReporter, stage1_share: float) -> None:
        self.reporter, self.share = reporter, stage1_share
        self.stopping = False

    def after_step(self, ctx, stage, epoch, step, parts):
        per_epoch = max(stage.steps_per_epoch, 1)
        within = (epoch * per_epoch + step + 1) / (max(stage.cfg.epochs, 1) * per_epoch)
        done = within * self.share if stage.index == 1 else self.share + within * (1 - self.share)
        detail = f"stage {stage.index} epoch {epoch + 1}/{stage.cfg.epochs}  loss {parts.get('total', float('nan')):.3f}"
        try:
            self.reporter.fraction(done, detail)
        except DemoStopped:
            self.stopping = True
            ctx.stop_requested = True  # honoured after this step: checkpoint, then run_finished "stopped"


class RunStep(Step):
    """Train one method (both stages) and evaluate it on both test splits."""

    def __init__(self, ws, settings, method: str) -> None:
        super().__init__(ws, settings)
        self.method = method
        self.name = f"run/{method}"
        self.title = method_title(method)
        self.run_dir = RunDir.at(ws.run(method))

    def expected_seconds(self) -> float:
        return RUN_SECONDS[self.settings.quick]

    def unavailable_reason(self) -> str:
        reason = SynthClipStep(self.ws, self.settings).unavailable_reason()
        return f"needs SynthCLIP weights ({reason})" if reason and not self.ws.synthclip.is_file() else ""

    def is_done(self) -> bool:
        metrics = read_json(self.run_dir.metrics)
        final = (metrics or {}).get("final", {})
        return all(self.ws.eval_label(split) in final for split in ("holistic", "occluded"))

    def run(self, reporter: StepReporter) -> str:
        from scing_core.engine.run import train

        cfg = demo_config(self.ws, self.settings, self.method)
        resume = self.run_dir.config.exists()
        if resume:
            check_same_config(self.run_dir, cfg)
        else:
            clear_leftovers(self.run_dir)
        hook = RunProgressHook(reporter, STAGE1_SHARE[self.settings.quick])
        train(cfg, self.run_dir.root, resume=resume, hooks=[hook])
        if hook.stopping or not self.run_dir.metrics.exists():
            raise DemoStopped(self.name)
        return "resumed" if resume else "ran"


def check_same_config(run: RunDir, cfg: TrainConfig) -> None:
    saved = to_dict(load_config(run.config))
    wanted = to_dict(cfg)
    if saved != wanted:
        keys = sorted(_diff_keys(saved, wanted))
        raise InputError(f"run '{run.root}' was started with another configuration ({', '.join(keys[:6])} differ); "
                         "delete that run folder to retrain it, or choose another --workspace")


def _diff_keys(a: dict, b: dict, prefix: str = "") -> list[str]:
    out = []
    for key in sorted(set(a) | set(b)):
        x, y = a.get(key), b.get(key)
        if isinstance(x, dict) and isinstance(y, dict):
            out += _diff_keys(x, y, f"{prefix}{key}.")
        elif x != y:
            out.append(prefix + key)
    return out


def clear_leftovers(run: RunDir) -> None:
    """Remove what a run killed before writing config.yaml left behind (and refuse anything else)."""
    if not run.root.is_dir():
        return
    entries = {p.name for p in run.root.iterdir()}
    if entries - RUN_LEFTOVERS:
        raise InputError(f"'{run.root}' holds files that are not a run ({', '.join(sorted(entries - RUN_LEFTOVERS))}); "
                         "move them away or choose another --workspace")
    for name in entries:
        path = run.root / name
        shutil.rmtree(path) if path.is_dir() else path.unlink()


def build_steps(ws: DemoWorkspace, settings: DemoSettings) -> list[Step]:
    """Data, SynthCLIP and the three runs, in build order (figures and report come after)."""
    steps: list[Step] = [SynthPedStep(ws, settings, "holistic"), SynthPedStep(ws, settings, "occluded"),
                         SynthClipStep(ws, settings)]
    return steps + [RunStep(ws, settings, m) for m in METHODS]
