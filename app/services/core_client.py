"""Thin calls into ``scing_core.api`` — the only door from the app to the core.

Functions here may take seconds (they load checkpoints, arrays, numba-compiled UMAP): panels call
them through :mod:`app.services.workers`, never directly on the GUI thread, except the cheap ones
marked *fast*.
"""

from __future__ import annotations

from pathlib import Path

from scing_core import api
from scing_core.api import ScingError, resources_dir

from app.services.errors import error_message
from app.state.runs import RunRow, method_title
from app.state.study import StudyView

# the panels and the bootstrap take these from here: core_client is the app's one gateway to the core
REEXPORTED = (ScingError, resources_dir)


def default_workspace() -> Path:
    """*fast* — where the demo workspace lives (and the studio opens by default)."""
    return Path(api.default_demo_workspace())


def workspace_of(path) -> tuple[Path, Path | None]:
    """*fast* — ``(workspace, run to select)``: a run directory opens the workspace that holds it."""
    return api.workspace_of(path)


def scan_runs(workspace) -> list[RunRow]:
    """Every run directory of the workspace as table rows (reads config, events and metrics)."""
    folder = Path(workspace)
    if not folder.is_dir():
        return []
    return [RunRow.from_summary(summary) for summary in api.list_runs(folder)]


def read_run_events(run_dir):
    """``(follower, events so far)``: every event of a run, and an ``api.EventFollower`` positioned
    after them that the panel keeps polling (reattach to a run started elsewhere)."""
    follower = api.follow_events(run_dir)
    return follower, follower.poll()


def event_log_bytes(run_dir) -> int:
    """*fast* — the size of a run's event log in bytes (0 while it has none)."""
    return api.event_log_bytes(run_dir)


def read_run_configs(run_dirs) -> dict[Path, dict]:
    """``{run dir: its configuration as a dict}`` (``api.run_config``; the Training panel's hyper-parameter
    table); a run whose config cannot be read is left out. A file read per run: call it in a worker."""
    configs = {}
    for run_dir in run_dirs:
        try:
            configs[Path(run_dir)] = api.run_config(run_dir)
        except (ScingError, OSError, ValueError):
            continue
    return configs


def run_writer(run_dir) -> str | None:
    """*fast* — one line naming the live process that trains ``run_dir``, or None."""
    return api.run_writer(run_dir)


def run_liveness(run_dir) -> str | None:
    """*fast* — ``"alive"`` (a process trains the run), ``"stale"`` (that process was killed) or None."""
    return api.run_liveness(run_dir)


def list_studies(workspace) -> list[Path]:
    """*fast* — the study folders (``scing study``) of a workspace; the workspace itself when it is one."""
    folder = Path(workspace)
    return list(api.list_studies(folder)) if folder.is_dir() else []


def load_study(study_dir) -> StudyView:
    """A study folder's ``study.json`` (raises ``api.ScingError`` with one line when it cannot be read)."""
    return StudyView(Path(study_dir), api.load_study(study_dir))


STUDY_JSON = "study.json"   # what `scing study` writes once every run is done (api.list_studies looks for it too)


def open_study(study_dir):
    """A study folder as the Study panel shows it: its statistics (:class:`StudyView`, from study.json), or,
    while it has no study.json (running, submitted, not collected), each run's live state
    (:class:`app.state.study_live.LiveStudy`, asked of the scheduler: seconds)."""
    folder = Path(study_dir)
    if (folder / STUDY_JSON).exists():
        return load_study(folder)
    return study_status(folder)


def study_status(study_dir):
    """Each run of a study folder now (``api.study_status``) as a :class:`app.state.study_live.LiveStudy`."""
    from app.state.study_live import LiveStudy

    return LiveStudy.of(study_dir, api.study_status(study_dir))


def list_plans() -> list[str]:
    """*fast* — the shipped study plans (``study/NAME``)."""
    return list(api.list_plans())


def study_command(request) -> list[str]:
    """*fast* — the argv of ``scing study`` for a :class:`app.state.study_live.StudyRequest`."""
    return api.study_command(request.plan, request.workspace, seeds=request.seeds, resume=request.resume,
                             launcher=request.launcher)


def collect_study_command(study_dir) -> list[str]:
    """*fast* — the argv that writes a study's study.json once every run is done (exit code 1 otherwise)."""
    return api.collect_study_command(study_dir)


def presets() -> list[str]:
    """*fast* — preset names (``DATASET/METHOD`` and ``DATASET/METHOD/VARIANT`` rows)."""
    return list(api.list_presets())


def launch_overrides(workspace, preset: str, overrides) -> list[str]:
    """*fast* — what the studio adds to a new run's overrides (SynthCLIP weights for the demo variants);
    raises ValueError with the fix when the preset cannot start in this workspace."""
    try:
        return api.launch_overrides(workspace, preset, overrides)
    except api.ScingError as error:
        raise ValueError(error_message(error)) from None


def train_command(preset: str, run_dir, overrides=(), resume: bool = False, nproc: int = 1,
                  launcher=None) -> list[str]:
    """*fast* — the argv of ``scing train`` for a QProcess; with a Slurm ``launcher`` (an
    ``api.LauncherSettings``) the process submits the run as a job and ends within seconds."""
    return api.train_command(preset, run_dir, list(overrides), resume=resume, nproc=nproc, launcher=launcher)


# -- launchers and scheduler jobs (docs/cluster.md) ------------------------------------------------------
def launcher_settings(workspace):
    """*fast* — the workspace's saved launcher (``api.LauncherSettings``; the default when none is saved)."""
    return api.launcher_settings(workspace)


def launcher_with(settings, values):
    """*fast* — ``settings`` with a form's :class:`app.state.launcher.LauncherValues`; raises ValueError
    with the core's one line when a value is out of range."""
    try:
        return settings.replace(**values.changes())
    except api.ScingError as error:
        raise ValueError(error_message(error)) from None


def save_launcher_settings(workspace, settings) -> Path:
    """*fast* — save the workspace's launcher (``WORKSPACE/launcher.json``); ValueError when it cannot."""
    try:
        return Path(api.save_launcher_settings(workspace, settings))
    except api.ScingError as error:
        raise ValueError(error_message(error)) from None


def resubmit_launcher(workspace, launcher: str, run_dir=None):
    """*fast* — the settings a run submitted before is submitted again with: those its job.json records
    (partition, time limit, GPUs ...), else the workspace's saved launcher, of the run's kind."""
    recorded = api.run_launcher(run_dir) if run_dir is not None else None
    if recorded is not None and recorded.kind == launcher:
        return recorded
    saved = api.launcher_settings(workspace)
    return saved if saved.kind == launcher else saved.replace(kind=launcher)


def run_jobs(run_dirs) -> dict:
    """``{run dir: JobFacts or None}``: each run's scheduler job as the scheduler reports it now
    (``api.run_job``: sacct for Slurm, about a second each); None for runs no launcher submitted."""
    from app.state.runs_status import JobFacts

    return {Path(run_dir): JobFacts.of(api.run_job(run_dir)) for run_dir in run_dirs}


def stop_run(run_dir) -> str:
    """Stop what trains ``run_dir`` after its current step (a queued job is cancelled); says what it did."""
    return api.stop_run(run_dir)


def demo_command(workspace, quick: bool) -> list[str]:
    """*fast* — the argv of ``scing demo`` for a QProcess."""
    return api.demo_command(workspace, quick=quick)


def eval_folders(run_dir) -> list[str]:
    """*fast* — names of the complete eval folders of a run (what ``load_eval`` accepts)."""
    return api.eval_folders(run_dir)


def load_eval(run_dir, dataset: str | None):
    """The eval artefacts (``EvalArtifacts``) of a run's eval folder."""
    return api.load_eval(run_dir, dataset)


def cam_methods() -> list[str]:
    """The CAM methods the saliency module offers (imports torch and pytorch-grad-cam)."""
    return list(api.list_cam_methods())


def compute_saliency_grid(request, progress=None) -> tuple[dict[str, list], dict[str, str]]:
    """``({run name: [SaliencyResult per image]}, {run name: error line})`` for a
    :class:`app.state.saliency.SaliencyRequest`: a run that fails (no checkpoint yet, …) is reported
    and the others are still shown. A request error common to every run (unknown CAM method, bad
    target, unreadable image) raises instead. Run names are the folders' names, made unique.
    """
    out: dict[str, list] = {}
    errors: dict[str, str] = {}
    for number, run_dir in enumerate(request.run_dirs, start=1):
        name = _unique(Path(run_dir).name, {**out, **errors})
        if progress is not None:
            progress(f"Grad-CAM {number}/{len(request.run_dirs)}: {name}")
        try:
            out[name] = api.compute_saliency(run_dir, list(request.image_paths), target=request.target,
                                             method=request.method, checkpoint=request.checkpoint)
        except Exception as error:
            if _is_run_problem(error):
                errors[name] = error_message(error)
                continue
            raise
    return out, errors


def export_saliency_figure(results_by_run: dict, out_path) -> Path:
    """Write the paper-style grid (PNG + PDF) with the core's figure code."""
    return Path(api.saliency_grid_figure(results_by_run, out_path))


def compute_gap(request, progress=None) -> tuple[list, dict[str, str]]:
    """``(GapResult per run, jointly projected to 2-D per run; {run name: error line})`` for a
    :class:`app.state.gap.GapRequest`; runs that cannot be used are reported, the others shown."""
    results, errors = [], {}
    for number, run_dir in enumerate(request.run_dirs, start=1):
        if progress is not None:
            progress(f"embeddings {number}/{len(request.run_dirs)}: {Path(run_dir).name}")
        try:
            results.append(api.collect_gap_embeddings(run_dir, ids=request.ids, text=request.text, seed=request.seed))
        except Exception as error:
            if not _is_run_problem(error):
                raise
            errors[Path(run_dir).name] = error_message(error)
    if results:
        if progress is not None:
            progress(f"projecting with {request.projection.upper()}")
        results = list(api.project_2d(results, method=request.projection, seed=request.seed))
    return results, errors


def export_ranking_figure(run_dir, dataset: str, query_indices: list[int], k: int, out_path) -> Path:
    """Write the ranked lists of ``query_indices`` in a run's eval folder as a paper figure (PNG + PDF)."""
    title = f"{Path(run_dir).name} · {dataset}"
    return Path(api.ranking_figure(api.load_eval(run_dir, dataset), out_path, queries=query_indices, k=k, title=title))


def export_gap_figure(results: list, out_path) -> Path:
    """Write the paper-style modality-gap figure (PNG + PDF) of projected results."""
    return Path(api.gap_figure(results, out_path))


def start_umap_warm_up():
    """Start compiling UMAP's numba code in the background; returns what the core returns (a thread)."""
    return api.warm_up_umap(background=True)


def _is_run_problem(error: BaseException) -> bool:
    """A missing/incomplete run or checkpoint (one run's problem), not a bad request."""
    return any(cls.__name__ in ("RunDirError", "CheckpointError", "DatasetError") for cls in type(error).__mro__)


def _unique(name: str, taken) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name} ({n})", n + 1
    return candidate


# -- linked modality-gap view, UMAP / t-SNE off the studio process, dataset explorer ------------------------
def warm_up_umap_here() -> None:
    """Compile UMAP's numba code in the calling process (the projection process runs this)."""
    api.warm_up_umap(background=False)


def project_pairs(image_emb, text_emb, method: str, seed: int = 0):
    """``(image_xy, text_xy)``: the joint 2-D projection of one run's pairs (``pca`` / ``umap`` / ``tsne``)."""
    return api.project_pairs_2d(image_emb, text_emb, method=method, seed=seed)


def gap_projections() -> tuple[str, ...]:
    """*fast* — the projections the Modality-gap panel offers."""
    return tuple(api.GAP_PROJECTIONS)


def compute_gap_view(request, projector=None, progress=None, cache=None):
    """``(GapView per run, projected GapResult per run, {run name: error line})`` for a
    :class:`app.state.gap.GapRequest` (its ``split`` included). ``projector(image_emb, text_emb, method,
    seed)`` does the 2-D projection (default :func:`project_pairs` in this thread; the studio passes
    :meth:`app.services.embedding_process.ProjectionProcess.project`); ``cache``: an
    :class:`app.state.embedding_cache.EmbeddingCache` whose runs are not embedded again
    (:mod:`app.services.gap_compute`)."""
    from app.services.gap_compute import compute_gap_view as compute

    return compute(request, projector or project_pairs, progress, cache)


def gap_queries(result) -> dict[str, str]:
    """``{image path: eval folder}`` for the images of a ``GapResult`` that are queries of its run's eval
    folder named after their data folder (``eval_folder_for``). Only test-split images can be (the
    training split has no queries); an eval folder that cannot be read makes none of its images one."""
    from app.state.gap_view import eval_folder_for

    if result.split != "test":
        return {}
    folders = api.eval_folders(result.run)
    by_folder: dict[str, list[str]] = {}
    for path in map(str, result.paths or []):
        folder = eval_folder_for(path, folders)
        if folder is not None:
            by_folder.setdefault(folder, []).append(path)
    queries = {}
    for folder, paths in by_folder.items():
        try:
            listed = set(map(str, api.load_eval(result.run, folder).query.paths))
        except (ScingError, ValueError, OSError):
            continue
        queries.update({path: folder for path in paths if path in listed})
    return queries


def dataset_names() -> list[str]:
    """*fast* — the registered dataset names (``api.list_datasets``)."""
    return list(api.list_datasets())


def data_folders(workspace) -> list[Path]:
    """*fast* — the folders under ``WORKSPACE/data`` (where ``scing demo`` puts its datasets)."""
    root = Path(workspace) / "data"
    return sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


def load_dataset_summary(name: str, root):
    """A :class:`app.state.dataset_summary.DatasetSummary` of dataset ``name`` at ``root`` (splits,
    identities, cameras, captions and occlusion); raises the core's one-line error when it cannot load."""
    from app.state.dataset_summary import DatasetSummary

    dataset = api.load_dataset(name, root)
    paths = [s.path for split in ("train", "query", "gallery") for s in dataset.split(split)]
    return DatasetSummary.from_dataset(name, dataset, api.image_annotations(paths))


def image_annotations(paths) -> dict[str, dict]:
    """``{path: {"caption": str, "occlusion": fraction | None}}`` for the images their SynthPed folder
    describes (``api.image_annotations``; other datasets: empty). Reads captions.jsonl: call in a worker."""
    return api.image_annotations([str(p) for p in paths])


def preload_analysis_modules() -> None:
    """Import the core's heavy parts (torch, evaluation, Grad-CAM, modality gap) in the calling worker,
    once, while the window has just opened: an import holds the GIL while C extensions load, so the first
    eval load, tab switch or saliency would otherwise freeze the window for ~0.2 s at a time; and the
    libraries themselves load with the GIL released (:mod:`app.services.gil_free_imports`).

    The garbage collector is paused meanwhile (a full collection amid 10⁵ new objects holds the GIL for
    0.1–0.2 s each), and everything alive afterwards — the imported modules — is hidden from it for
    good (``gc.freeze``), so later full collections scan only what the session creates."""
    import gc

    from app.services.gil_free_imports import dlopen_without_gil

    enabled = gc.isenabled()
    gc.disable()
    try:
        with dlopen_without_gil():   # torch's libraries load without the GIL: the window keeps painting
            for name in ("load_eval_artifacts", "list_cam_methods", "collect_gap_embeddings"):
                getattr(api, name)
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
