"""Where training jobs run: this process (``inline``), this machine's processes (``local``) or a Slurm
cluster (``slurm``), through submitit's executors; nothing here schedules by itself.

- ``inline``: the caller trains in its own process, one run after another (the default).
- ``local``: submitit's LocalExecutor, at most ``parallel`` runs at once (a thread pool of that size
  holds one submitted job each), each with its share of the CPU threads.
- ``slurm``: submitit's SlurmExecutor; several runs go out as one job array (``%parallel`` of them at
  once), and :func:`submit` returns at once.

Every submitted run gets ``RUN_DIR/job.json`` (:class:`JobRecord`): launcher, job id, submitit folder
and the ids of earlier submissions. A run's queue state comes from the scheduler (:func:`job_state`:
sacct through submitit for Slurm, the process table for local jobs), never from its files.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from scing_core.atomic import read_json, write_json_atomic
from scing_core.config import save_config
from scing_core.errors import ConfigError, InputError
from scing_core.paths import shared_filesystem_warning
from scing_core.pipeline.jobs import TrainJob
from scing_core.runs.layout import RunDir

LAUNCHERS = ("inline", "local", "slurm")
SLURM_COMMANDS = ("sbatch", "sacct", "scancel", "scontrol", "srun")
LOCAL_TIMEOUT_MIN = 7 * 24 * 60   # submitit's local executor would kill a job after 2 minutes by default


@dataclass(frozen=True)
class LauncherSettings:
    """How runs are launched (``scing study --launcher``/``scing train --launcher``, or a plan's ``launcher:``)."""

    kind: str = "inline"             # inline | local | slurm
    parallel: int = 1                # runs at once (local: processes; slurm: the job array's %N)
    partition: str = ""              # slurm: --partition
    account: str = ""                # slurm: --account
    gpus_per_run: int = 1            # slurm: GPUs per node of each run (one task per GPU, DDP across them)
    cpus_per_run: int = 8            # slurm: CPUs per task
    mem_gb: float = 0.0              # slurm: memory per node (0: the partition's default)
    time_min: int = 24 * 60          # slurm: time limit in minutes
    nodes: int = 1                   # slurm: nodes per run (> 1: multi-node DDP)
    sbatch_lines: tuple[str, ...] = ()   # slurm: extra "#SBATCH" options, e.g. ("--qos=high", "--constraint=a100")
    threads: int = 0                 # CPU threads of each run (0: local: the cores shared by the runs at once;
                                     # inline and slurm: torch's default). CPU sums depend on it: equal counts, equal numbers

    def check(self) -> "LauncherSettings":
        if self.kind not in LAUNCHERS:
            raise ConfigError(f"launcher '{self.kind}' is not one of {', '.join(LAUNCHERS)}")
        for name, low in (("parallel", 1), ("gpus_per_run", 0), ("cpus_per_run", 1), ("time_min", 1), ("nodes", 1),
                          ("threads", 0)):
            if getattr(self, name) < low:
                raise ConfigError(f"launcher {name} = {getattr(self, name)} must be >= {low}")
        if self.mem_gb < 0:
            raise ConfigError(f"launcher mem_gb = {self.mem_gb} must be >= 0 (0: the partition's default)")
        if self.kind != "slurm" and self.nodes > 1:
            raise ConfigError(f"nodes = {self.nodes} needs the slurm launcher (a local launcher has one machine)")
        return self

    @classmethod
    def from_mapping(cls, data: dict, where: str) -> "LauncherSettings":
        """Settings from a plan's ``launcher:`` mapping; an unknown key fails naming the valid ones."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ConfigError(f"{where}: unknown launcher option(s) {', '.join(unknown)}; valid: {', '.join(sorted(names))}")
        values = dict(data)
        if "sbatch_lines" in values:
            values["sbatch_lines"] = tuple(str(line) for line in values["sbatch_lines"] or ())
        try:
            return cls(**values).check()
        except TypeError as exc:
            raise ConfigError(f"{where}: {exc}") from None

    def replace(self, **changes) -> "LauncherSettings":
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None}).check()

    def threads_per_run(self) -> int:
        """CPU threads each run gets: ``threads`` when set; else, locally, the machine's cores shared by the
        runs at once, and torch's default (0) in this process or on a Slurm node."""
        if self.threads or self.kind != "local":
            return self.threads
        return max(1, (os.cpu_count() or 1) // self.parallel)


@dataclass
class JobRecord:
    """``RUN_DIR/job.json``: the scheduler job that trains (or trained) the run."""

    launcher: str
    job_id: str
    folder: str                      # submitit's folder (submission pickles, logs)
    submitted: float = field(default_factory=time.time)
    previous: list[str] = field(default_factory=list)   # earlier job ids of this run (retries)
    settings: dict = field(default_factory=dict)         # the LauncherSettings it was submitted with

    @classmethod
    def read(cls, run: RunDir) -> "JobRecord | None":
        data = read_json(run.job)
        if not data or not {"launcher", "job_id", "folder"} <= set(data):
            return None
        return cls(str(data["launcher"]), str(data["job_id"]), str(data["folder"]), float(data.get("submitted", 0)),
                   [str(j) for j in data.get("previous", [])], dict(data.get("settings") or {}))

    def launcher_settings(self) -> LauncherSettings:
        """The settings this job was submitted with (to submit the run again the same way)."""
        try:
            return LauncherSettings.from_mapping(self.settings, "job.json") if self.settings else LauncherSettings(self.launcher)
        except ConfigError:
            return LauncherSettings(self.launcher)

    def write(self, run: RunDir) -> None:
        write_json_atomic(run.job, dataclasses.asdict(self))


WORKSPACE_SETTINGS = "launcher.json"   # a workspace's saved launcher settings (the studio's launch forms)


def read_workspace_launcher(workspace) -> LauncherSettings:
    """The launcher settings saved in ``workspace`` (defaults when none are, or they no longer check)."""
    data = read_json(Path(workspace).expanduser() / WORKSPACE_SETTINGS)
    try:
        return LauncherSettings.from_mapping(data or {}, "launcher.json")
    except ConfigError:
        return LauncherSettings()


def write_workspace_launcher(workspace, settings: LauncherSettings) -> Path:
    """Save ``settings`` as the workspace's launcher (``WORKSPACE/launcher.json``, atomically)."""
    path = Path(workspace).expanduser() / WORKSPACE_SETTINGS
    write_json_atomic(path, dataclasses.asdict(settings.check()))
    return path


def launcher_flags(settings: LauncherSettings) -> list[str]:
    """The command-line flags (``scing train`` / ``scing study``) that ask for ``settings``."""
    if settings.kind == "inline":
        return []
    flags = ["--launcher", settings.kind, "--parallel", str(settings.parallel)]
    if settings.kind == "local":
        return flags
    for name in ("partition", "account"):
        if getattr(settings, name):
            flags += [f"--{name}", getattr(settings, name)]
    flags += ["--gpus-per-run", str(settings.gpus_per_run), "--cpus-per-run", str(settings.cpus_per_run),
              "--time-min", str(settings.time_min), "--nodes", str(settings.nodes)]
    if settings.mem_gb:
        flags += ["--mem-gb", str(settings.mem_gb)]
    return flags + [f"--sbatch={line}" for line in settings.sbatch_lines]


def prepare_for_submission(run: RunDir, cfg) -> None:
    """Before a run is submitted: its config.yaml written (a new run) or checked (one that continues),
    and a lock left by a job the scheduler has ended (a node that died) cleared."""
    from scing_core.pipeline.training import prepare_run_dir   # here: torch (the engine); `import scing_core.api` loads this module

    if not prepare_run_dir(run, cfg):
        run.prepare(False)
        save_config(cfg, run.config)
    record = JobRecord.read(run)
    if record is not None and run.lock.exists() and job_state(record).state == "ended":
        logging.getLogger(__name__).warning("clearing %s: its job %s has ended", run.lock, record.job_id)
        run.lock.unlink(missing_ok=True)


def check_launcher_available(settings: LauncherSettings) -> None:
    """One clear line, before anything is submitted, when the launcher cannot work here."""
    try:
        import submitit  # noqa: F401  (here, as every submitit import of this module: ~60 ms of `import scing_core.api`)
    except ImportError:
        if settings.kind != "inline":
            raise InputError("the local and slurm launchers need submitit: pip install submitit") from None
    if settings.kind != "slurm":
        return
    missing = [cmd for cmd in SLURM_COMMANDS if shutil.which(cmd) is None]
    if missing:
        raise InputError(f"--launcher slurm needs Slurm's commands on PATH, missing: {', '.join(missing)}; run it on a "
                         "login node of the cluster (or use --launcher local on this machine)")
    if settings.partition:
        known = _partitions()
        if known and settings.partition not in known:
            raise InputError(f"partition '{settings.partition}' is not one of this cluster's: {', '.join(known)} "
                             "(sinfo); set --partition to one of them")


def _partitions() -> list[str]:
    if shutil.which("sinfo") is None:
        return []
    try:
        out = subprocess.run(["sinfo", "-h", "-o", "%P"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return sorted({line.strip().rstrip("*") for line in out.splitlines() if line.strip()})


def make_executor(settings: LauncherSettings, folder: Path, name: str = "scing"):
    """submitit's executor for ``settings`` (local or slurm), writing its files under ``folder``."""
    import submitit   # here: ~60 ms of `import scing_core.api`

    if settings.kind == "local":
        executor = submitit.LocalExecutor(folder=str(folder))
        executor.update_parameters(timeout_min=LOCAL_TIMEOUT_MIN)
        return executor
    executor = submitit.SlurmExecutor(folder=str(folder))
    params = dict(job_name=name, time=settings.time_min, nodes=settings.nodes, cpus_per_task=settings.cpus_per_run,
                  ntasks_per_node=max(1, settings.gpus_per_run), array_parallelism=settings.parallel,
                  signal_delay_s=90)
    if settings.gpus_per_run:
        params["gpus_per_node"] = settings.gpus_per_run
    for key, value in (("partition", settings.partition), ("account", settings.account)):
        if value:
            params[key] = value
    if settings.mem_gb:
        params["mem"] = f"{int(settings.mem_gb * 1024)}MB"
    if settings.sbatch_lines:
        params["additional_parameters"] = _sbatch_options(settings.sbatch_lines)
    executor.update_parameters(**params)
    return executor


def _sbatch_options(lines: tuple[str, ...]) -> dict:
    """``("--qos=high", "#SBATCH --constraint a100", "--exclusive")`` -> submitit's additional_parameters."""
    options = {}
    for line in lines:
        text = line.strip().removeprefix("#SBATCH").strip()
        if not text.startswith("--"):
            raise ConfigError(f"sbatch line '{line}' must be a long option, e.g. --qos=high")
        key, _, value = text[2:].replace(" ", "=", 1).partition("=")
        options[key.replace("-", "_")] = value.strip() if value else True
    return options


def submit(run_dirs: list[RunDir], settings: LauncherSettings, folder: Path, name: str = "scing") -> list[JobRecord]:
    """Submit one TrainJob per run (their config.yaml written) and record each in its job.json. Slurm:
    one job array, returned at once. Local: blocks until every run ended (``parallel`` at a time)."""
    check_launcher_available(settings)
    for run in run_dirs[:1]:
        warning = shared_filesystem_warning(run.root, settings.nodes)
        if warning:
            logging.getLogger(__name__).warning(warning)
    folder.mkdir(parents=True, exist_ok=True)
    executor = make_executor(settings, folder, name)
    threads = settings.threads_per_run()
    jobs = [TrainJob(str(run.root), threads) for run in run_dirs]
    if settings.kind == "slurm":
        with executor.batch():
            submitted = [executor.submit(job) for job in jobs]
        return [_record(run, settings, job.job_id, folder) for run, job in zip(run_dirs, submitted)]
    records: list[JobRecord] = []

    def one(run: RunDir, job: TrainJob):
        handle = executor.submit(job)
        records.append(_record(run, settings, handle.job_id, folder))
        handle.wait()
        return handle

    with ThreadPoolExecutor(max_workers=settings.parallel, thread_name_prefix="local-launcher") as pool:
        for future in [pool.submit(one, run, job) for run, job in zip(run_dirs, jobs)]:
            future.result()
    return records


def _record(run: RunDir, settings: LauncherSettings, job_id: str, folder: Path) -> JobRecord:
    old = JobRecord.read(run)
    previous = (old.previous + [old.job_id]) if old else []
    record = JobRecord(settings.kind, str(job_id), str(folder), time.time(), previous, dataclasses.asdict(settings))
    record.write(run)
    return record


# -- the scheduler's view of a job --------------------------------------------------------------

QUEUED = ("PENDING", "REQUEUED", "CONFIGURING", "REQUEUE_HOLD", "REQUEUE_FED", "RESV_DEL_HOLD", "SUSPENDED")
RUNNING = ("RUNNING", "COMPLETING", "STAGE_OUT")


@dataclass(frozen=True)
class JobState:
    """A job as its scheduler reports it: ``state`` queued | running | ended | unknown, the raw state
    word (e.g. ``PENDING``, ``TIMEOUT``, ``CANCELLED``) and the node it runs on."""

    state: str
    raw: str = ""
    node: str = ""


def job_state(record: JobRecord) -> JobState:
    """Ask the scheduler about ``record``'s job (sacct via submitit; the process table for local jobs)."""
    if record.launcher == "local":
        return _local_state(record)
    try:
        import submitit   # here: ~60 ms of `import scing_core.api`

        info = submitit.SlurmJob(record.folder, record.job_id).get_info(mode="force")
    except Exception as exc:   # sacct missing or failing: say so rather than guess
        return JobState("unknown", f"sacct failed: {type(exc).__name__}")
    raw = str(info.get("State") or "UNKNOWN").split()[0].upper()
    node = str(info.get("NodeList") or "").strip()
    node = "" if node in ("None assigned", "(null)") else node
    if raw in QUEUED:
        return JobState("queued", raw, node)
    if raw in RUNNING:
        return JobState("running", raw, node)
    return JobState("unknown" if raw == "UNKNOWN" else "ended", raw, node)


def _local_state(record: JobRecord) -> JobState:
    try:
        pid = int(record.job_id)
        os.kill(pid, 0)
    except (ValueError, ProcessLookupError):
        return JobState("ended", "EXITED", "localhost")
    except PermissionError:
        pass
    return JobState("running", "RUNNING", "localhost")


def stop_run(run: RunDir) -> str:
    """Stop whatever trains ``run``, gracefully where it runs (a checkpoint after the current step);
    returns what was done, in words. A queued Slurm job is cancelled (scancel through submitit); a
    running one gets SIGINT (``scancel --signal=INT``), which a TrainJob takes as a user's stop; a
    process on this machine gets SIGINT (a launcher's job) or SIGTERM (``scing train``)."""
    import submitit   # here: ~60 ms of `import scing_core.api`

    from scing_core.runs.lock import lock_holder   # here: it loads socket (~7 ms, ~3 % of `import scing_core.api`)

    record = JobRecord.read(run)
    state = job_state(record) if record else None
    if record is not None and record.launcher == "slurm" and state.state == "queued":
        submitit.SlurmJob(record.folder, record.job_id).cancel(check=True)
        return f"cancelled the queued job {record.job_id}"
    if record is not None and record.launcher == "slurm" and state.state == "running":
        if not run.lock.exists():   # the job has not started training: nothing to checkpoint, so cancel it
            submitit.SlurmJob(record.folder, record.job_id).cancel(check=True)
            return f"cancelled job {record.job_id} before its training started"
        subprocess.run(["scancel", "--signal=INT", record.job_id], check=True, capture_output=True, timeout=60)
        return f"asked job {record.job_id} to stop after its current step"
    holder = lock_holder(run.root)
    if holder is None:
        return "nothing trains it"
    launched = record is not None and state is not None and state.state == "running"
    try:
        os.kill(int(holder["pid"]), signal.SIGINT if launched else signal.SIGTERM)
    except (ProcessLookupError, PermissionError, ValueError, KeyError) as exc:
        raise InputError(f"could not signal process {holder.get('pid')} on {holder.get('host')} ({exc})") from None
    return f"asked process {holder['pid']} to stop after its current step"


def submission_script(record: JobRecord) -> str:
    """The sbatch script submitit wrote for ``record``'s job (for docs and checks), '' when absent."""
    folder = Path(record.folder)
    base = record.job_id.split("_")[0]
    for path in sorted(folder.glob(f"{base}*submission.sh")) + sorted(folder.glob("*submission.sh")):
        return path.read_text(encoding="utf-8")
    return ""


def describe(records: list[JobRecord]) -> str:
    """One line per submitted job, for the console."""
    return "\n".join(f"  {Path(r.folder).name}: {r.launcher} job {r.job_id}" for r in records)


def as_json(records: list[JobRecord]) -> str:
    return json.dumps([dataclasses.asdict(r) for r in records], indent=2)
