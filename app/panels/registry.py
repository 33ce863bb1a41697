"""The studio's tabs, in order. Adding a panel touches three files: the panel module (a QWidget that
follows :data:`PANEL_PROTOCOL`), its Qt-free state in ``app/state/``, and one row of :data:`PANELS`
(docs/architecture.md walks through it).

PANEL_PROTOCOL — what the window relies on, and nothing more:

- signals ``errorOccurred(str)`` and ``statusMessage(str)`` (shown in the status bar);
- ``workers``: the panel's :class:`app.services.workers.WorkerPool` (screenshots wait for it);
- ``workspace_changed(path, rows)``: a workspace scan (``rows``: every run, damaged ones included;
  the panel clears what belonged to another workspace before it shows the new one);
- ``screenshot_start(runs)`` -> a callable to run before ``--screenshot`` grabs the tab (None: grab as
  is), given ``ShowcaseRuns``; ``screenshot_wanted()`` -> False to skip the tab (nothing to show).

PANEL_OPTIONAL — what the window uses when a panel has it (:func:`optional_members`):

- signal ``runsChanged()``: runs appeared or ended on disk; the window rescans the workspace;
- ``select_run(path)``: a run directory was opened as the workspace; show that run;
- ``running_jobs()`` -> processes the panel started that still run: the window asks before closing
  and keeps the tabs (rather than the setup page) while any runs;
- ``shutdown()``: the window is closing; stop processes and threads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from app.panels.dataset_panel import DatasetPanel
from app.panels.gap_panel import GapPanel
from app.panels.retrieval_panel import RetrievalPanel
from app.panels.saliency_panel import SaliencyPanel
from app.panels.study_panel import StudyPanel
from app.panels.training_panel import TrainingPanel

PANEL_PROTOCOL = ("errorOccurred", "statusMessage", "workers", "workspace_changed", "screenshot_start",
                  "screenshot_wanted")
PANEL_OPTIONAL = ("runsChanged", "select_run", "running_jobs", "shutdown")


@dataclass(frozen=True)
class PanelSpec:
    name: str                      # the window attribute and the screenshot's name (studio-<name>.png)
    title: str                     # the tab's title
    factory: Callable[[], object]  # builds the panel


PANELS = (
    PanelSpec("training", "Training", TrainingPanel),
    PanelSpec("retrieval", "Retrieval", RetrievalPanel),
    PanelSpec("saliency", "Saliency", SaliencyPanel),
    PanelSpec("gap", "Modality gap", GapPanel),
    PanelSpec("study", "Study", StudyPanel),
    PanelSpec("dataset", "Dataset", DatasetPanel),
)


def optional_members(panels, name: str) -> list:
    """The panels that have the optional member ``name`` (one of :data:`PANEL_OPTIONAL`)."""
    if name not in PANEL_OPTIONAL:
        raise ValueError(f"'{name}' is not an optional panel member; optional: {', '.join(PANEL_OPTIONAL)}")
    return [panel for panel in panels if hasattr(panel, name)]


@dataclass(frozen=True)
class ShowcaseRuns:
    """The runs a screenshot shows: the proposed method's completed run and CLIP-ReID's (or None)."""

    scing: Path | None
    baseline: Path | None

    @classmethod
    def of(cls, rows) -> "ShowcaseRuns":
        def first(method):
            return next((row.path for row in rows if row.method == method and row.status == "completed"), None)

        return cls(first("scing"), first("clipreid"))
