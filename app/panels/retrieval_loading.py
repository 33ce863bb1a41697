"""Loading an eval folder for the Retrieval panel, in a worker: the view-model or why it failed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from app.services import core_client
from app.services.core_client import ScingError
from app.services.errors import error_message
from app.state.retrieval import RetrievalState


@dataclass(frozen=True)
class LoadFailure:
    """An eval folder that could not be read, with the one line that says why."""

    message: str


def load_retrieval_state(run_dir, dataset: str) -> RetrievalState | LoadFailure:
    """Eval artefacts -> view-model, both in the worker (large query sets stay off the GUI thread). An
    unreadable or inconsistent eval folder is an answer, not a crash: the panel shows its message in
    place of the data (and no traceback reaches the log)."""
    try:
        return RetrievalState.from_artifacts(core_client.load_eval(run_dir, dataset))
    except (ScingError, ValueError) as error:
        return LoadFailure(error_message(error))


def comparable_runs(run_paths, run_dir, dataset: str) -> list[Path]:
    """The runs of ``run_paths`` other than ``run_dir`` with a complete eval folder ``dataset`` (the runs
    "vs" offers). A filesystem scan per run: done in the eval-loading worker, never on the GUI thread."""
    return [Path(path) for path in run_paths if Path(path) != Path(run_dir) and dataset in core_client.eval_folders(path)]


def load_for_browsing(run_dir, dataset: str, run_paths) -> tuple[RetrievalState | LoadFailure, list[Path]]:
    """What the Retrieval panel needs to show an eval (in a worker): its view-model (or why it failed) and
    the other runs evaluated on the same test set."""
    return load_retrieval_state(run_dir, dataset), comparable_runs(run_paths, run_dir, dataset)
