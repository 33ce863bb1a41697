"""Loading an eval folder for the Retrieval panel, in a worker: the view-model or why it failed."""

from __future__ import annotations

from dataclasses import dataclass

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
