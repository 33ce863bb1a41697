"""The run list of a workspace: rows, sorting, selection and the per-run status shown in the table.

:class:`RunListState` is evented (psygnal): it emits when its rows, selection, ticks or statuses change,
and only then; the run table and the Training panel subscribe and draw.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field, replace
from pathlib import Path

from psygnal import Signal

from app.state.run_filter import RunFilter, compile_filter

# Status words as the core reports them (api.RunSummary.status), plus "running" and "killed" as
# app.state.runs_status.derive_status decides them from process liveness.
FINISHED_STATUSES = ("completed", "stopped", "failed")
RESUMABLE_STATUSES = ("stopped", "failed", "running-or-killed", "killed")
COLUMNS = ("name", "method", "dataset", "status", "mAP", "R1")
METHOD_TITLES = {"clipreid": "CLIP-ReID", "cocoop": "CoCoOp", "scing": "SCING"}


def method_title(method: str) -> str:
    """'clipreid' -> 'CLIP-ReID' (the paper's names); unknown methods unchanged."""
    return METHOD_TITLES.get(method, method)


@dataclass(frozen=True)
class RunRow:
    """One run directory as the Training panel lists it (metrics as fractions 0..1, None if absent)."""

    name: str
    path: Path
    method: str
    dataset: str
    status: str
    mAP: float | None = None
    R1: float | None = None
    metrics_by_dataset: dict = field(default_factory=dict, compare=False)
    selection: dict = field(default_factory=dict, compare=False)  # metrics.json's model selection record
    problem: str = ""   # a damaged run: why it cannot be read (it stays listed; the others stay usable)
    last_event_time: float | None = None   # unix time of its last event at the scan

    @property
    def damaged(self) -> bool:
        return self.status == "damaged"

    @property
    def test_selected(self) -> bool:
        """The reported checkpoint was chosen on the test set (optimistic numbers)."""
        return self.selection.get("mode") == "test"

    @property
    def metrics_split(self) -> str:
        """The evaluated split that ``mAP`` / ``R1`` belong to, short: ``synthped@synthped_occluded`` ->
        ``synthped_occluded`` (the data folder); the config's dataset while there are no final metrics."""
        label = next(iter(self.metrics_by_dataset), "")
        return label.split("@", 1)[-1] if label else self.dataset

    @classmethod
    def from_summary(cls, summary) -> "RunRow":
        """Build a row from an ``api.RunSummary`` (anything with the same attributes); ``mAP`` / ``R1`` of
        the split evaluated first. The Training panel puts every row on the studio's first test set
        (``app.state.test_sets.on_first_test_set``, the split Retrieval opens first) before listing it."""
        per_dataset = final_metrics(summary.metrics)
        first = next(iter(per_dataset.values()), {})
        return cls(name=Path(summary.path).name, path=Path(summary.path), method=summary.method,
                   dataset=summary.dataset, status=summary.status, mAP=metric_number(first.get("mAP")),
                   R1=metric_number(first.get("R1")), metrics_by_dataset=per_dataset,
                   selection=_selection(summary.metrics), problem=str(getattr(summary, "problem", "") or ""),
                   last_event_time=metric_number((getattr(summary, "last_event", None) or {}).get("time")))

    @property
    def resumable(self) -> bool:
        return self.status in RESUMABLE_STATUSES

    def metrics_tooltip(self) -> str:
        """Every evaluated split as 'label: mAP xx.x  R1 yy.y' lines (for the table's tooltip)."""
        if self.damaged:
            return f"damaged: {self.problem}"
        if not self.metrics_by_dataset:
            return "no final metrics yet (metrics.json appears when the run completes)"
        lines = [f"{label}: mAP {format_percent(values.get('mAP'))}  R1 {format_percent(values.get('R1'))}"
                 for label, values in self.metrics_by_dataset.items()]
        if self.selection.get("label"):
            marker = "‡ " if self.test_selected else ""
            lines.append(f"{marker}numbers from: {self.selection['label']}")
        return "\n".join(lines)


def final_metrics(metrics: dict) -> dict[str, dict]:
    """``{dataset label: {mAP, R1, ...}}`` from a run's metrics.json content (``{}`` until finished)."""
    if not isinstance(metrics, dict):
        return {}
    final = metrics.get("final", metrics)
    return {label: values for label, values in final.items() if isinstance(values, dict) and "mAP" in values}


def _selection(metrics) -> dict:
    selection = metrics.get("selection") if isinstance(metrics, dict) else None
    return selection if isinstance(selection, dict) else {}


def format_percent(value, digits: int = 1) -> str:
    """0.6123 -> '61.2'; None/NaN -> '—'."""
    number = metric_number(value)
    return "—" if number is None else f"{100 * number:.{digits}f}"


def metric_number(value) -> float | None:
    """A metric as a number (None for a missing or non-numeric value, or NaN)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


class RunListState:
    """Rows of the run table with a stable selection (by path) across refreshes and re-sorts.

    Signals (each emitted once per change, never when nothing changed):

    - ``rows_changed()``: rows replaced or re-sorted, or a row's persisted status changed;
    - ``selection_changed(path | None)``: another run is selected (or none);
    - ``overlay_changed()``: runs were ticked or unticked (the runs drawn together changed);
    - ``statuses_changed({path: status})``: the live statuses that changed.

    A run filter (:meth:`set_filter`, a regular expression over names) hides the runs it does not
    match: they are not drawn (:meth:`plotted`) and the table hides their rows (:meth:`shown`).
    """

    rows_changed = Signal()
    selection_changed = Signal(object)
    overlay_changed = Signal()
    statuses_changed = Signal(dict)

    def __init__(self) -> None:
        self.rows: list[RunRow] = []
        self.selected: Path | None = None
        self.sort_column = "name"
        self.descending = False
        self._live_status: dict[Path, str] = {}
        self.overlaid: dict[Path, int] = {}   # runs ticked to be drawn together -> palette index
        self.run_filter = RunFilter()

    def set_filter(self, text: str) -> RunFilter:
        """Show only the runs whose names match the regular expression ``text`` (an invalid one filters
        nothing: its ``error`` says why); emits ``rows_changed`` when the runs shown change."""
        before = [self.shown(row) for row in self.rows]
        self.run_filter = compile_filter(text)
        if [self.shown(row) for row in self.rows] != before:
            self.rows_changed.emit()
        return self.run_filter

    def shown(self, row: RunRow) -> bool:
        """Whether the run filter lets ``row`` through."""
        return self.run_filter.matches(row.name)

    def shown_rows(self) -> list[RunRow]:
        return [row for row in self.rows if self.shown(row)]

    def set_rows(self, rows, select=None, reselect: bool = False) -> None:
        """Replace the rows (after a workspace scan); keeps the selection and the ticks of runs that
        still exist. ``reselect`` (or no run selected any more): select ``select`` instead, if listed."""
        before_rows, before_selected, before_ticks = self.rows, self.selected, dict(self.overlaid)
        self.rows = list(rows)
        self._apply_sort()
        if self.selected is not None and self.index_of(self.selected) is None:
            self.selected = None
        if reselect or self.selected is None:
            index = self.index_of(select) if select is not None else None
            self.selected = self.rows[index].path if index is not None else None
        self.overlaid = {path: colour for path, colour in self.overlaid.items() if self.index_of(path) is not None}
        # everything is consistent before the first signal goes out
        if not _same_rows(before_rows, self.rows):
            self.rows_changed.emit()
        if self.overlaid != before_ticks:
            self.overlay_changed.emit()
        if self.selected != before_selected:
            self.selection_changed.emit(self.selected)

    def set_overlaid(self, path, on: bool) -> None:
        """Tick (or untick) a run to draw it with the others; a ticked run keeps its colour."""
        before = dict(self.overlaid)
        self._tick(Path(path), on)
        if self.overlaid != before:
            self.overlay_changed.emit()

    def set_overlaid_runs(self, paths) -> None:
        """Tick exactly the runs at ``paths`` (one ``overlay_changed`` for all of them)."""
        before, wanted = dict(self.overlaid), {Path(p) for p in paths}
        for row in self.rows:
            self._tick(row.path, row.path in wanted)
        if self.overlaid != before:
            self.overlay_changed.emit()

    def _tick(self, key: Path, on: bool) -> None:
        if not on:
            self.overlaid.pop(key, None)
        elif key not in self.overlaid and self.index_of(key) is not None:
            self.overlaid[key] = _first_free(self.overlaid.values())

    def plotted(self) -> list[tuple[Path, int]]:
        """``(path, palette index)`` of the runs to draw, in table order: the ticked runs (TensorBoard's
        checkboxes), or the selected run alone while none is ticked."""
        ticked = [(row.path, self.overlaid[row.path]) for row in self.rows
                  if row.path in self.overlaid and not row.damaged and self.shown(row)]
        row = self.selected_row
        return ticked or ([(row.path, 0)] if row is not None and not row.damaged and self.shown(row) else [])

    def set_live_status(self, path, status: str | None) -> None:
        """Show ``status`` instead of the scan's; ``None`` falls back to the scan's."""
        self.set_live_statuses({Path(path): status})

    def set_live_statuses(self, statuses: dict) -> dict[Path, str]:
        """Set several live statuses (``{path: status or None}``, as ``app.state.runs_status.derive_status``
        decides them); emits ``statuses_changed`` once with those shown differently now, and returns them."""
        changed = {}
        for path, status in statuses.items():
            key = Path(path)
            index = self.index_of(key)
            persisted = self.rows[index].status if index is not None else None
            before = self._live_status.get(key, persisted)
            if status is None:
                self._live_status.pop(key, None)
            else:
                self._live_status[key] = status
            if self._live_status.get(key, persisted) != before:
                changed[key] = self._live_status.get(key, persisted)
        if changed:
            self.statuses_changed.emit(changed)
        return changed

    def status_of(self, row: RunRow) -> str:
        return self._live_status.get(row.path, row.status)

    def status_text(self, row: RunRow) -> str:
        """What the table's status cell says (the status; a subclass may add to it)."""
        return self.status_of(row)

    def sort_by(self, column: str, descending: bool = False) -> None:
        if column not in COLUMNS:
            raise ValueError(f"cannot sort runs by '{column}'; columns: {', '.join(COLUMNS)}")
        before = list(self.rows)
        self.sort_column, self.descending = column, descending
        self._apply_sort()
        if self.rows != before:
            self.rows_changed.emit()

    def _apply_sort(self) -> None:
        column = self.sort_column

        def key(row: RunRow):
            value = self.status_of(row) if column == "status" else getattr(row, column)
            missing = value is None  # runs without metrics go last whatever the direction
            return (missing != self.descending, value if not missing else 0, row.name)

        self.rows.sort(key=key, reverse=self.descending)

    def select(self, path) -> RunRow | None:
        """Select the run at ``path`` (``None``, or a run not listed, clears); returns the selected row."""
        index = self.index_of(path) if path is not None else None
        selected = None if index is None else self.rows[index].path
        if selected != self.selected:
            self.selected = selected
            self.selection_changed.emit(selected)
        return self.selected_row

    @property
    def selected_row(self) -> RunRow | None:
        index = self.index_of(self.selected) if self.selected is not None else None
        return None if index is None else self.rows[index]

    def index_of(self, path) -> int | None:
        key = Path(path)
        return next((i for i, row in enumerate(self.rows) if row.path == key), None)

    def with_status(self, path, status: str) -> None:
        """Record a new persisted status for a row (e.g. after its process ended)."""
        index = self.index_of(path)
        if index is not None and self.rows[index].status != status:
            self.rows[index] = replace(self.rows[index], status=status)
            self.rows_changed.emit()


def _same_rows(before: list[RunRow], after: list[RunRow]) -> bool:
    """Same rows in the same order, down to the fields that row equality leaves out."""
    return len(before) == len(after) and all(
        a == b and a.metrics_by_dataset == b.metrics_by_dataset and a.selection == b.selection
        for a, b in zip(before, after))


def _first_free(used) -> int:
    taken = set(used)
    return next(index for index in itertools.count() if index not in taken)


def default_comparison_runs(rows, limit: int = 3) -> list[Path]:
    """The runs compared by default in Saliency / Modality gap: one per method (CLIP-ReID, CoCoOp,
    SCING order — the demo's three runs), preferring completed runs, else the first ``limit`` runs."""
    order = ("clipreid", "cocoop", "scing")
    picked: list[Path] = []
    for method in order:
        candidates = [r for r in rows if r.method == method]
        candidates.sort(key=lambda r: (r.status != "completed", r.name))
        if candidates:
            picked.append(candidates[0].path)
    if not picked:
        picked = [r.path for r in rows[:limit]]
    return picked[:max(limit, len(order))]
