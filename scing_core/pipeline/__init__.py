"""Pipelines: steps run in order with one progress view, a stop flag and a step log.

The layer below the demo and the studies, above the engine and analysis: ``progress`` (the protocol
a CLI or GUI view implements, the stop flag), ``steps`` (Step, run_steps, the step log), ``synthetic``
(SynthPed + SynthCLIP as steps, and where they live in a workspace) and ``training`` (a run as a step:
train or resume into a run directory).
"""

from scing_core.pipeline.progress import PipelineProgress, PlannedStep, StepReporter, StepStopped, StopFlag
from scing_core.pipeline.steps import Step, StepLog, StepOutcome, read_step_log, run_steps

__all__ = ["PipelineProgress", "PlannedStep", "Step", "StepLog", "StepOutcome", "StepReporter", "StepStopped",
           "StopFlag", "read_step_log", "run_steps"]
