"""The facade the GUI (and scripts) use: small, documented, stable.

``app`` imports nothing else from ``scing_core`` (tests/test_boundaries.py enforces it). Every
function does real work in the core and may take seconds: the GUI calls them from worker threads.
Training itself never runs in the GUI process: :func:`train_command` gives the command line that the
GUI starts as a subprocess, and :class:`EventFollower` follows its ``events.jsonl``.
"""

from __future__ import annotations

import importlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from scing_core.config import list_presets, load_config, resolve_config, to_dict
from scing_core.data import ReIDDataset, ReIDSample, list_datasets, load_dataset
from scing_core.runs.events import EventFollower, read_events
from scing_core.runs.layout import RunDir
from scing_core.data.datasets.synthped import image_annotations, mask_path_for
from scing_core.runs.trained import TrainedRun, load_prototypes, load_run_model
from scing_core.errors import InputError, RunDirError, ScingError
from scing_core.paths import default_demo_workspace, user_cache_dir
from scing_core.pipeline.launchers import (JobRecord, LauncherSettings, job_state, launcher_flags,
                                           read_workspace_launcher, write_workspace_launcher)
from scing_core.pipeline.launchers import stop_run as stop_launched_run
from scing_core.resources import resources_dir

# The heavy parts of the core, imported on first use (PEP 562 ``__getattr__`` below): name -> its module.
# `import scing_core.api` takes ~0.27 s (the studio imports it when it opens); importing any of these
# modules on top of it took (2-core dev machine, median of 5 runs):
#   analysis.saliency 10 s, analysis.modality_gap 9 s, analysis.robustness 8.5 s, analysis.efficiency 8 s,
#   models.prompts 9 s (torch + open_clip), analysis.ranking_figure 4.7 s, analysis.distance_figures 4.3 s,
#   evaluation 3.9 s (torch), analysis.projection 0.09 s (numpy; UMAP itself loads on first use).
# A string map is the cheapest honest way to offer them here: a top-level import would put torch into
# every `import scing_core.api`, and a wrapper function per name would repeat each signature and
# docstring. Everything else the API offers is imported at the top of this module.
_LAZY = {
    # saliency (paper Fig. 5)
    "SaliencyResult": "scing_core.analysis.saliency",
    "compute_saliency": "scing_core.analysis.saliency",
    "list_cam_methods": "scing_core.analysis.saliency",
    "saliency_grid_figure": "scing_core.analysis.saliency",
    "person_share": "scing_core.analysis.saliency",
    # modality gap (paper Fig. 1)
    "GapResult": "scing_core.analysis.modality_gap",
    "collect_gap_embeddings": "scing_core.analysis.modality_gap",
    "gap_metrics": "scing_core.analysis.modality_gap",
    "project_2d": "scing_core.analysis.modality_gap",
    "gap_figure": "scing_core.analysis.modality_gap",
    "warm_up_umap": "scing_core.analysis.projection",
    "GAP_PROJECTIONS": "scing_core.analysis.projection",
    "project_pairs_2d": "scing_core.analysis.projection",
    # robustness and distance figures
    "robustness_curves": "scing_core.analysis.robustness",
    "robustness_figure": "scing_core.analysis.robustness",
    "distance_figures": "scing_core.analysis.distance_figures",
    "ranking_figure": "scing_core.analysis.ranking_figure",
    # evaluation artefacts
    "EvalArtifacts": "scing_core.evaluation",
    "load_eval_artifacts": "scing_core.evaluation",
    "roc_curve": "scing_core.evaluation",
    "pair_distance_histograms": "scing_core.evaluation",
    # efficiency (paper Table 4)
    "efficiency_table": "scing_core.analysis.efficiency",
    # methods: their display titles (the method registry lives with the prompt learners)
    "method_title": "scing_core.models.prompts",
    "list_methods": "scing_core.models.prompts",
}

__all__ = [
    "EventFollower", "ReIDDataset", "ReIDSample", "RunSummary", "ScingError", "default_demo_workspace", "demo_command",
    "damaged_run", "list_datasets", "list_presets", "list_runs", "load_dataset", "load_eval", "read_events", "resolve_config",
    "resources_dir",
    "summarize_run", "train_command", "user_cache_dir", "workspace_of", "launch_overrides", "list_studies",
    "load_study", "study_command", "run_writer", "run_liveness", "eval_folders", "follow_events", "TrainedRun",
    "LauncherSettings", "launcher_settings", "save_launcher_settings", "run_job", "stop_run", "study_status",
    "list_plans", "collect_study_command", "run_launcher", "load_run_model", "load_prototypes", "mask_path_for",
    "image_annotations", *_LAZY,
]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'scing_core.api' has no attribute '{name}'")


@dataclass(frozen=True)
class RunSummary:
    """What the studio shows about a run directory."""

    path: Path
    method: str
    dataset: str
    status: str            # completed | stopped | failed | running-or-killed | not-started | damaged
    metrics: dict          # metrics.json content ({} until the run finished)
    last_event: dict | None
    problem: str = ""      # damaged: why the run cannot be read (one line); "" otherwise


def summarize_run(run_dir) -> RunSummary:
    run = TrainedRun.open(run_dir)
    events = run.events()
    cfg = run.config
    return RunSummary(run.root, cfg.model.method, cfg.data.dataset, run.status(events), run.metrics(),
                      events[-1] if events else None)


def damaged_run(run_dir, error: BaseException) -> RunSummary:
    """A run directory that cannot be read, listed with the reason instead of hiding the others."""
    reason = str(error).splitlines()[0] if str(error) else type(error).__name__
    if not isinstance(error, ScingError):
        reason = f"{type(error).__name__}: {reason}"
    return RunSummary(Path(run_dir), "?", "?", "damaged", {}, None, problem=reason)


def workspace_of(path) -> tuple[Path, Path | None]:
    """``(workspace, run)`` for a folder a user opens: a run directory itself (it holds config.yaml)
    belongs to the workspace above it (above its ``runs/`` folder when it sits in one); any other
    folder is the workspace, with no run to select."""
    folder = Path(path).expanduser().resolve()
    if not RunDir.holds_run(folder):
        return folder, None
    parent = folder.parent
    return (parent.parent if parent.name == "runs" else parent), folder


def list_runs(workspace) -> list[RunSummary]:
    """Every run directory (a folder with config.yaml) directly under ``workspace`` or its ``runs/``."""
    root = Path(workspace).expanduser()
    candidates = sorted(p for pattern in ("*", "runs/*") for p in root.glob(pattern) if RunDir.holds_run(p))
    out = []
    for path in candidates:
        try:
            out.append(summarize_run(path))
        except Exception as error:  # one damaged run never hides the others: it is listed with the reason
            out.append(damaged_run(path, error))
    return out


def run_config(run_dir) -> dict:
    """The configuration a run was trained with (its config.yaml, checked, every default filled in), as a
    plain nested dict; a ScingError names the file when it cannot be read."""
    return to_dict(load_config(RunDir.at(run_dir).config))


def run_writer(run_dir) -> str | None:
    """One line naming the live process that trains ``run_dir`` (its ``train.lock``), or None when no
    process does: the studio refuses to start a second writer on a run."""
    from scing_core.runs.lock import describe_holder, lock_holder   # here: it loads socket (~7 ms, ~3 % of this module's import)

    holder = lock_holder(run_dir)
    return describe_holder(Path(run_dir), holder) if holder is not None else None


def run_liveness(run_dir) -> str | None:
    """Whether a process trains ``run_dir`` now: ``"alive"``, ``"stale"`` (the process that held the
    run's lock is gone: killed), or None (no lock)."""
    from scing_core.runs.lock import lock_state   # here: see run_writer

    return lock_state(run_dir)


def list_studies(workspace) -> list[Path]:
    """Study folders (``scing study``) of a workspace: ``workspace/studies/*/`` holding study.json or,
    for a study still running or submitted to a cluster, its plan.yaml; and ``workspace`` itself when
    it is one (a study folder opened as the workspace)."""
    root = Path(workspace).expanduser()

    def is_study(folder: Path) -> bool:
        return (folder / "study.json").is_file() or (folder / "plan.yaml").is_file()

    found = [root] if is_study(root) else []
    return found + sorted(p for p in root.glob("studies/*") if p.is_dir() and is_study(p))


def load_study(study_dir) -> dict:
    """A study's ``study.json`` (docs/studies.md describes it); a ScingError when it cannot be read."""
    path = Path(study_dir).expanduser() / "study.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ScingError(f"study '{path.parent}' has no readable study.json ({exc}); re-run `scing study --resume`") from None
    if not isinstance(data, dict) or "rows" not in data or "pairs" not in data:
        raise ScingError(f"'{path}' is not a study.json written by `scing study`; re-run `scing study --resume`")
    return data


def study_command(plan: str, workspace, seeds: int | None = None, resume: bool = False,
                  launcher: LauncherSettings | None = None) -> list[str]:
    """The argv that runs (or continues) a study plan in a separate process (``scing study``); with a
    ``launcher`` its runs go there (Slurm: the command submits and returns)."""
    cmd = [sys.executable, "-m", "scing_core.cli", "study", "--plan", str(plan), "--workspace", str(workspace), "--plain"]
    cmd += (["--seeds", str(seeds)] if seeds else []) + (["--resume"] if resume else [])
    return cmd + (launcher_flags(launcher) if launcher else [])


def collect_study_command(study_dir) -> list[str]:
    """The argv that prints a study's run states and, once every run is done, writes its study.json."""
    return [sys.executable, "-m", "scing_core.cli", "study", "--status", str(study_dir), "--collect"]


def train_command(config: str, run_dir, overrides: list[str] = (), resume: bool = False, nproc: int = 1,
                  launcher: LauncherSettings | None = None) -> list[str]:
    """The argv that trains ``config`` into ``run_dir`` in a separate process (``scing train``); with a
    Slurm ``launcher`` the process submits the run as a job and returns at once."""
    cmd = [sys.executable, "-m", "scing_core.cli", "train", "--run-dir", str(run_dir), "--plain"]
    if resume:
        cmd.append("--resume")
    if nproc > 1:
        cmd += ["--nproc", str(nproc)]
    cmd += launcher_flags(launcher) if launcher else []
    return cmd if resume else cmd + ["--config", config, *overrides]


# -- launchers: where runs train (docs/cluster.md) ------------------------------------------------

def launcher_settings(workspace) -> LauncherSettings:
    """*fast* — the launcher saved in ``workspace`` (``launcher.json``), else the default (this machine)."""
    return read_workspace_launcher(workspace)


def save_launcher_settings(workspace, settings: LauncherSettings) -> Path:
    """Save the workspace's launcher (the studio's launch forms start from it)."""
    return write_workspace_launcher(workspace, settings)


@dataclass(frozen=True)
class RunJob:
    """The scheduler job behind a run: ``state`` queued | running | ended | unknown (the scheduler's);
    ``settings``: the LauncherSettings it was submitted with (Resume submits it again with them)."""

    launcher: str
    job_id: str
    state: str
    raw: str
    node: str
    settings: LauncherSettings | None = None


def run_job(run_dir) -> RunJob | None:
    """The run's scheduler job and its state, asked of the scheduler (sacct through submitit: may take a
    second; call it off the GUI thread); None for runs no launcher submitted."""
    record = JobRecord.read(RunDir.at(run_dir))
    if record is None:
        return None
    state = job_state(record)
    return RunJob(record.launcher, record.job_id, state.state, state.raw, state.node, record.launcher_settings())


def run_launcher(run_dir) -> LauncherSettings | None:
    """*fast* — the launcher settings the run's job was submitted with (its job.json), None without a job."""
    record = JobRecord.read(RunDir.at(run_dir))
    return record.launcher_settings() if record is not None else None


def stop_run(run_dir) -> str:
    """Stop what trains ``run_dir`` after its current step (a queued Slurm job is cancelled); says what it did."""
    return stop_launched_run(RunDir.at(run_dir))


def study_status(study_dir) -> list:
    """Each run of a study folder (WORKSPACE/studies/<plan>) as a ``RunStatus``: state (done, queued,
    running, preempted, failed, stopped, not started), job id, node, epoch reached, last error, fraction."""
    from scing_core.study.follow import follow_study   # here: the study package loads torch (its runner trains)

    return follow_study(study_dir).runs


def list_plans() -> list[str]:
    """*fast* — the shipped study plans (``study/NAME``)."""
    from scing_core.study.plan import list_plans as plans   # here: not needed by import scing_core.api

    return plans()


def demo_command(workspace=None, quick: bool = False) -> list[str]:
    """The argv that builds (or finishes) the demo workspace in a separate process (``scing demo``)."""
    cmd = [sys.executable, "-m", "scing_core.cli", "demo", "--workspace", str(workspace or default_demo_workspace())]
    return cmd + (["--quick"] if quick else [])


def launch_overrides(workspace, preset: str, overrides=()) -> list[str]:
    """Overrides the studio adds when it starts ``preset`` in ``workspace``: a run on the SynthCLIP
    architecture (the ``demo`` variants) with no ``model.pretrained=`` of its own starts from the
    workspace's SynthCLIP checkpoint, the one ``scing demo`` pre-trained. Raises InputError when the
    workspace has none."""
    from scing_core.demo.workspace import DemoWorkspace   # here: the demo package, ~7 % of this module's import

    overrides = list(overrides)
    if resolve_config(preset, overrides).model.arch != "synthclip-s":
        return []
    if any(item.startswith("model.pretrained=") for item in overrides):
        return []
    weights = DemoWorkspace.at(workspace).synthclip
    if weights.is_file():
        return [f"model.pretrained={weights}"]
    raise InputError(f"preset '{preset}' fine-tunes SynthCLIP (model.arch=synthclip-s), and this workspace has no "
                     f"SynthCLIP weights ({weights}); build the demo workspace, or pre-train one with "
                     "`scing synthclip --out PATH` and add the override model.pretrained=PATH")


def load_eval(run_dir, dataset: str | None = None):
    """The eval artefacts of a run (features, top-k, per-query AP) without recomputing anything.

    ``dataset`` defaults to the first folder under ``RUN_DIR/eval``.
    """
    from scing_core.evaluation import load_eval_artifacts   # here: torch (see _LAZY)

    run = RunDir.at(run_dir)
    if dataset is None:
        folders = run.eval_folders()
        if not folders:
            raise RunDirError(f"run '{run.root}' has no eval artefacts yet; run `scing eval --run-dir {run.root}`")
        dataset = folders[0]
    return load_eval_artifacts(run.eval_dir(dataset))


def eval_folders(run_dir) -> list[str]:
    """*fast* — the names of a run's complete eval folders (what :func:`load_eval` accepts)."""
    return RunDir.at(run_dir).eval_folders()


def event_log_bytes(run_dir) -> int:
    """*fast* — the size of the run's event log in bytes (0 while it has none)."""
    try:
        return RunDir.at(run_dir).events.stat().st_size
    except OSError:
        return 0


def follow_events(run_dir) -> EventFollower:
    """An :class:`EventFollower` on the run's event log (the studio polls it while a run trains)."""
    return EventFollower(RunDir.at(run_dir).events)

