"""The run directory layout (README, "Run directory"; docs/design.md) and its reuse rules.

This is the one module that knows the names inside a run directory; everything else asks a
:class:`RunDir` (or a :class:`scing_core.runs.trained.TrainedRun`) for its paths::

    RUN_DIR/config.yaml  events.jsonl  metrics.json  prototypes.pt  train.lock  job.json  submitit/
            checkpoints/{last,stage1,best}.pt   cache/stage1_features.pt
            eval/<name>/  (an eval folder: the artefacts of one evaluation, with its metrics.json)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scing_core.atomic import check_writable_folder
from scing_core.errors import OutputError, RunDirError


@dataclass(frozen=True)
class RunDir:
    root: Path

    @classmethod
    def at(cls, path) -> "RunDir":
        """The run directory at ``path`` (absolute); a RunDir is returned as it is."""
        if isinstance(path, RunDir):
            return path
        return cls(Path(path).expanduser().resolve())

    config = property(lambda self: self.root / "config.yaml")
    events = property(lambda self: self.root / "events.jsonl")
    checkpoints = property(lambda self: self.root / "checkpoints")
    last = property(lambda self: self.root / "checkpoints" / "last.pt")
    stage1 = property(lambda self: self.root / "checkpoints" / "stage1.pt")
    best = property(lambda self: self.root / "checkpoints" / "best.pt")
    prototypes = property(lambda self: self.root / "prototypes.pt")
    metrics = property(lambda self: self.root / "metrics.json")
    eval = property(lambda self: self.root / "eval")
    cache = property(lambda self: self.root / "cache")
    stage1_cache = property(lambda self: self.root / "cache" / "stage1_features.pt")
    lock = property(lambda self: self.root / "train.lock")
    job = property(lambda self: self.root / "job.json")          # the scheduler job that trains it (launchers)
    submitit = property(lambda self: self.root / "submitit")     # that job's submission files and logs

    # what a run writes before its config.yaml exists (a run killed that early leaves only these)
    EARLY_ENTRIES = ("events.jsonl", "cache", "checkpoints", "train.lock")
    EVAL_METRICS = "metrics.json"   # the file that marks a complete eval folder

    @staticmethod
    def holds_run(path) -> bool:
        """Whether ``path`` is a run directory (it holds config.yaml)."""
        return (Path(path) / "config.yaml").is_file()

    def eval_dir(self, name: str) -> Path:
        """The eval folder ``eval/<name>`` (e.g. ``synthped``, ``synthped@synthped_occluded_flip``)."""
        return self.eval / name

    def eval_folders(self) -> list[str]:
        """Names of the complete eval folders (those with their metrics.json), sorted."""
        if not self.eval.is_dir():
            return []
        return sorted(p.parent.name for p in self.eval.glob(f"*/{self.EVAL_METRICS}"))

    def checkpoint(self, which: str) -> Path:
        """``selected`` | ``best`` | ``last`` | ``stage1`` | a path.

        ``selected`` is the checkpoint the run reports (its ``model_selection``): ``best.pt`` when the
        run selected one on the test or validation split, else ``last.pt`` (the final epoch).
        """
        if which == "selected":
            return self.best if self.best.exists() else self.last
        if which == "best" and not self.best.exists() and self.last.exists():
            raise RunDirError(f"run '{self.root}' has no best.pt: it reports its final epoch (model_selection=final); "
                              "use --checkpoint selected or last, or train with model_selection=val")
        if which in ("best", "last", "stage1"):
            return getattr(self, which)
        return Path(which).expanduser()

    def prepare(self, resume: bool) -> None:
        """Create the folder and prove it writable; refuse to reuse a non-empty one unless resuming.
        Nothing is left behind when it cannot be used."""
        if self.root.exists() and not self.root.is_dir():
            raise RunDirError(f"run directory '{self.root}' is a file; choose another --run-dir")
        if resume:
            if not self.config.exists():
                raise RunDirError(f"cannot resume: '{self.root}' has no config.yaml (not a run directory); drop --resume to start a new run")
            self._check_writable(created=False)
            return
        if self.root.exists() and any(self.root.iterdir()):
            raise RunDirError(
                f"run directory '{self.root}' is not empty; pass --resume to continue it, or choose a new --run-dir"
            )
        self._check_writable(created=not self.root.exists())

    def _check_writable(self, created: bool) -> None:
        try:
            check_writable_folder(self.root, "run directory")
            if self.checkpoints.exists():
                check_writable_folder(self.checkpoints, "checkpoint folder")
        except OutputError as exc:
            if created and self.root.is_dir() and not any(self.root.iterdir()):
                self.root.rmdir()
            raise RunDirError(str(exc)) from None

    def require(self) -> None:
        if not self.config.exists():
            raise RunDirError(f"'{self.root}' is not a run directory (no config.yaml); run `scing train` first")
