"""The demo's build steps: its data (SynthPed holistic + occluded, SynthCLIP) and the three training runs.

The data steps are the pipeline's (:mod:`scing_core.pipeline.synthetic`); a run step trains one method
on SynthPed-Occluded from SynthCLIP, or finishes an interrupted run (config.yaml but no metrics.json)
with ``train(..., resume=True)``. The analysis figures are in :mod:`scing_core.demo.figures`.
"""

from __future__ import annotations

import dataclasses

from scing_core.atomic import read_json
from scing_core.config import TrainConfig, resolve_config
from scing_core.demo.workspace import DemoSettings, DemoWorkspace
from scing_core.models.prompts import method_title
from scing_core.pipeline.progress import StepReporter
from scing_core.pipeline.steps import Step
from scing_core.pipeline.synthetic import SynthClipStep
from scing_core.pipeline.training import train_or_resume
from scing_core.runs.layout import RunDir

RUN_SECONDS = {True: 5.0, False: 32.0}   # expected seconds of a demo run (quick, full) on an idle 2-core CPU
STAGE1_SHARE = {True: 0.3, False: 0.2}   # share of a run's time spent before stage 2 (cache + prompts)


def demo_config(ws: DemoWorkspace, settings: DemoSettings, method: str) -> TrainConfig:
    """``synthped_occluded/<method>/<variant>`` pointed at the workspace: trains on SynthPed-Occluded
    with SynthCLIP weights, evaluates on the occluded and the holistic test splits."""
    cfg = resolve_config(f"synthped_occluded/{method}/{settings.variant}", [f"seed={settings.seed}"])
    data = dataclasses.replace(cfg.data, root=str(ws.dataset("occluded")), test_datasets=ws.test_datasets(),
                               image_size=tuple(settings.size))
    model = dataclasses.replace(cfg.model, pretrained=str(ws.synthclip))
    return dataclasses.replace(cfg, data=data, model=model)


class RunStep(Step):
    """Train one method (both stages) and evaluate it on both test splits."""

    def __init__(self, ws: DemoWorkspace, settings: DemoSettings, method: str) -> None:
        self.ws, self.settings, self.method = ws, settings, method
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
        cfg = demo_config(self.ws, self.settings, self.method)
        return train_or_resume(cfg, self.run_dir, reporter, STAGE1_SHARE[self.settings.quick])
