"""``run_study``: train a plan's rows x seeds into a workspace, then write its statistics.

Layout (``WORKSPACE/studies/<plan name>/``)::

    plan.yaml        the plan as it was run (rows, seeds, overrides)
    runs/<row>-s<seed>/   one run directory per row and seed
    study.json, study.md  the statistics (scing_core.study.report)
    study-log.jsonl       one line per step outcome

A plan with ``data: demo`` first builds (or reuses) the demo's SynthPed, SynthPed-Occluded and
SynthCLIP in the workspace, exactly as ``scing demo`` lays them out, and every run trains on
SynthPed-Occluded from SynthCLIP and is evaluated on both test splits. Finished runs are skipped,
interrupted ones resumed; steps, progress view and stop handling are the pipeline's (scing_core.pipeline).
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from scing_core.atomic import read_json, write_text_atomic
from scing_core.config import resolve_config
from scing_core.errors import InputError, RunDirError
from scing_core.pipeline.launchers import LauncherSettings
from scing_core.pipeline.parallel import StepGroup
from scing_core.pipeline.progress import PipelineProgress, StepReporter, StopFlag
from scing_core.pipeline.steps import Step, StepOutcome, run_steps
from scing_core.pipeline.synthetic import SynthData, SynthLayout, synth_steps
from scing_core.pipeline.training import cpu_threads, prepare_run_dir, train_or_resume
from scing_core.runs.layout import RunDir
from scing_core.study.launch import LaunchedRun, LaunchedRunsStep
from scing_core.study.plan import StudyPlan, StudyRow
from scing_core.study.report import finished_metrics, write_study

GPU_RUN_SECONDS = 3600.0  # ETA seed for runs that are not the demo budget (corrected by the observed pace)
DEMO_RUN_SECONDS = 32.0   # a run at the demo's budget on an idle 2-core CPU (the demo's own estimate)
STAGE1_SHARE = 0.2        # share of such a run's time spent before stage 2


@dataclass
class StudyOptions:
    device: str = "auto"
    nproc: int = 1                 # inline launcher: processes per run (DDP through torchrun)
    data_root: str | None = None
    launcher: LauncherSettings = field(default_factory=LauncherSettings)


class StudyFolder:
    """``WORKSPACE/studies/<name>``."""

    def __init__(self, workspace, name: str) -> None:
        self.workspace = Path(workspace).expanduser().resolve()
        self.root = self.workspace / "studies" / name

    plan = property(lambda self: self.root / "plan.yaml")
    runs = property(lambda self: self.root / "runs")
    json = property(lambda self: self.root / "study.json")
    markdown = property(lambda self: self.root / "study.md")
    log = property(lambda self: self.root / "study-log.jsonl")

    def prepare(self, plan: StudyPlan, resume: bool) -> None:
        """Create the folder, or (with ``resume``) check it was started with the same rows."""
        if self.workspace.exists() and not self.workspace.is_dir():
            raise RunDirError(f"workspace '{self.workspace}' is a file; choose a folder with --workspace")
        saved = yaml.safe_load(self.plan.read_text()) if self.plan.is_file() else None
        if saved is not None and not resume:
            raise RunDirError(f"study folder '{self.root}' exists; pass --resume to continue it (more seeds welcome), "
                              "or choose another --workspace")
        if saved is not None:
            wanted = plan.as_dict()
            for key in ("rows", "overrides", "data"):
                if saved.get(key) != wanted[key]:
                    raise RunDirError(f"study '{self.root}' was started with other {key}; delete the folder to "
                                      "start again, or choose another --workspace")
        self.runs.mkdir(parents=True, exist_ok=True)
        write_text_atomic(self.plan, yaml.safe_dump(plan.as_dict(), sort_keys=False))


def run_overrides(plan: StudyPlan, row: StudyRow, seed: int, folder: StudyFolder, options: StudyOptions) -> list[str]:
    """The ``key=value`` list a run of ``row`` with ``seed`` trains with (after its preset)."""
    out = [*plan.overrides, *row.overrides, f"seed={seed}", f"device={options.device}"]
    if options.data_root:
        out.append(f"data.root={options.data_root}")
    if plan.data == "demo":
        layout, data = SynthLayout(folder.workspace), study_data()
        tests = ",".join(layout.test_datasets())
        out += [f"data.root={layout.dataset('occluded')}", f"data.test_datasets=[{tests}]",
                f"data.image_size=[{data.size[0]},{data.size[1]}]", f"model.pretrained={layout.synthclip}"]
    return out


def study_data() -> SynthData:
    """The full demo's data and SynthCLIP (seed 0): a study of several seeds shares them."""
    return SynthData.for_mode(False, 0)


def check_study_data(layout: SynthLayout) -> None:
    """Refuse a workspace whose demo was built with other data settings (its data would be rebuilt)."""
    manifest = layout.root / "demo.json"
    if not manifest.is_file():
        return
    found, wanted = read_json(manifest) or {}, study_data().data_fields()
    wanted["size"] = list(wanted["size"])
    differ = sorted(k for k in wanted if found.get(k) != wanted[k])
    if differ:
        raise InputError(f"workspace '{layout.root}' holds a demo built with other data settings ({', '.join(differ)} "
                         "differ); a `data: demo` study needs the full demo's data: choose another --workspace")


class StudyRunStep(Step):
    """Train one row with one seed (both stages + final evaluation), in this process or via torchrun."""

    def __init__(self, plan: StudyPlan, row: StudyRow, seed: int, folder: StudyFolder, options: StudyOptions) -> None:
        self.plan, self.row, self.seed, self.folder, self.options = plan, row, seed, folder, options
        self.name = f"run/{plan.run_name(row, seed)}"
        self.title = f"{row.title}, seed {seed}"
        self.run_dir = RunDir.at(folder.runs / plan.run_name(row, seed))
        self.overrides = run_overrides(plan, row, seed, folder, options)

    def expected_seconds(self) -> float:
        return DEMO_RUN_SECONDS if self.plan.data == "demo" else GPU_RUN_SECONDS

    def is_done(self) -> bool:
        cfg = resolve_config(self.row.preset, self.overrides)
        wanted = len(cfg.data.test_datasets) or 1
        return len(finished_metrics(self.run_dir.root)) >= wanted

    def run(self, reporter: StepReporter) -> str:
        cfg = resolve_config(self.row.preset, self.overrides)
        if self.options.nproc > 1:
            return self._run_distributed(prepare_run_dir(self.run_dir, cfg))
        with cpu_threads(self.options.launcher.threads):
            return train_or_resume(cfg, self.run_dir, reporter, STAGE1_SHARE)

    def _run_distributed(self, resume: bool) -> str:
        argv = [sys.executable, "-m", "scing_core.cli", "train", "--run-dir", str(self.run_dir.root), "--plain",
                "--nproc", str(self.options.nproc)]
        argv += ["--resume"] if resume else ["--config", self.row.preset, *self.overrides]
        code = subprocess.call(argv)
        if code != 0 or not self.run_dir.metrics.exists():
            raise RunDirError(f"`{' '.join(argv[2:])}` ended with status {code}; its events.jsonl says why")
        return "resumed" if resume else "ran"


class StudyReportStep(Step):
    """study.json + study.md from the finished runs (always rewritten at the end of a call)."""

    name = "report"
    title = "statistics (study.json, study.md)"

    def __init__(self, plan: StudyPlan, folder: StudyFolder, started: float) -> None:
        self.plan, self.folder, self.started = plan, folder, started

    def expected_seconds(self) -> float:
        return 2.0

    def is_done(self) -> bool:
        return False

    def run(self, reporter: StepReporter) -> str:
        write_study(self.plan, self.folder.root, seconds=time.time() - self.started)
        return "ran"


def study_steps(plan: StudyPlan, folder: StudyFolder, options: StudyOptions, started: float) -> list[Step]:
    """Data (``data: demo``), the runs (one step each inline; one launching step otherwise), the
    statistics (not after a Slurm submission: ``scing study --status --collect`` writes them)."""
    steps: list[Step] = []
    settings = options.launcher
    if plan.data == "demo":
        data = synth_steps(SynthLayout(folder.workspace), study_data())
        # the local launcher uses every core from the start: data and SynthCLIP at once, as the demo does
        steps += [StepGroup("data", "SynthPed, SynthPed-Occluded and SynthCLIP", data)] if settings.kind == "local" else data
    pairs = [(row, seed) for seed in plan.seeds for row in plan.rows]
    if settings.kind == "inline":
        steps += [StudyRunStep(plan, row, seed, folder, options) for row, seed in pairs]
        return [*steps, StudyReportStep(plan, folder, started)]
    runs = [LaunchedRun(plan.run_name(row, seed), folder.runs / plan.run_name(row, seed), row.preset,
                        run_overrides(plan, row, seed, folder, options)) for row, seed in pairs]
    seconds = DEMO_RUN_SECONDS if plan.data == "demo" else GPU_RUN_SECONDS
    steps.append(LaunchedRunsStep(runs, settings, folder.root / "submitit", f"scing-{plan.name}", seconds))
    return steps if settings.kind == "slurm" else [*steps, StudyReportStep(plan, folder, started)]


@dataclass
class StudyResult:
    folder: StudyFolder
    outcomes: list[StepOutcome]
    stopped: bool
    seconds: float
    jobs: list = field(default_factory=list)   # JobRecords of the runs this call submitted

    @property
    def submitted(self) -> bool:
        """True when the runs went to a scheduler and the call returned before they ended (Slurm)."""
        return any(o.action == "submitted" for o in self.outcomes)


def run_study(plan: StudyPlan, workspace, resume: bool = False, options: StudyOptions | None = None,
              progress: PipelineProgress | None = None, stop: StopFlag | None = None) -> StudyResult:
    """Run (or continue, with ``resume``) ``plan`` in ``workspace``; see the module docstring."""
    options = options or StudyOptions()
    folder = StudyFolder(workspace, plan.name)
    if plan.data == "demo":  # the demo's data layout: refuse a workspace built with other demo settings
        check_study_data(SynthLayout(folder.workspace))
    folder.prepare(plan, resume)
    started = time.time()
    steps = study_steps(plan, folder, options, started)
    outcomes, stopped = run_steps(steps, progress or PipelineProgress(), stop or StopFlag(), folder.log)
    jobs = [record for step in steps for record in getattr(step, "records", [])]
    return StudyResult(folder, outcomes, stopped, time.time() - started, jobs)
