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
