"""The embedded demo workspace that ``scing demo`` builds and the studio opens on.

SynthPed and SynthPed-Occluded, SynthCLIP (a small CLIP pre-trained on SynthPed captions), three
runs (CLIP-ReID, CoCoOp, SCING) trained on SynthPed-Occluded and evaluated on both test splits, the
analysis figures and ``report.md``. Re-running skips finished steps and resumes interrupted ones.

    from scing_core.demo import build_demo
    result = build_demo("/tmp/demo", quick=True)      # DemoResult: outcomes per step, report path
"""

from scing_core.demo.build import DemoResult, build_demo, demo_steps, plan_demo
from scing_core.demo.workspace import METHODS, DemoSettings, DemoWorkspace, last_invocation, read_step_log

__all__ = ["METHODS", "DemoResult", "DemoSettings", "DemoWorkspace", "build_demo", "demo_steps", "last_invocation",
           "plan_demo", "read_step_log"]
