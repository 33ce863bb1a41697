"""What the Study panel shows of a ``study.json`` (written by ``scing study``; docs/studies.md), without Qt.

:class:`StudyView` wraps a study folder and its loaded ``study.json`` and answers, for one test set:
the rows table (mean and 95 % interval of mAP and R1 over seeds, in AP points), the forest plot
entries (the paired per-query ΔAP of every row against the reference row), a one-line summary with
the sign tests, and the run directory of a row's seed. Values in study.json are fractions 0..1;
everything here is in percentage points with one decimal. An interval may be missing (one seed).

:class:`StudyState` is the panel's evented model: the workspace's studies, the one shown (loaded in a
worker: a load overtaken by another, or by another workspace, is dropped), its test set and the row
selected. A study folder without study.json yet (running, submitted, or not collected) is shown as an
:class:`app.state.study_live.LiveStudy` — its runs' live states — and refreshed while it may change.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from psygnal import Signal

from app.state.evented import EventedState, Placeholder
from app.state.runs import format_percent
from app.state.study_live import LiveStudy

NO_STUDIES = ("No studies in this workspace. Start one with <b>New study</b> above, or run <code>scing study --plan "
              "study/table3-synthped --workspace WORKSPACE</code> (docs/studies.md); its folder "
              "<code>studies/&lt;plan&gt;/</code> then appears here.")

MINUS = "−"   # typographic minus in labels ("SCING − CLIP-ReID")


def points(fraction) -> float | None:
    """0.0123 -> 1.23 (AP points); None stays None."""
    return None if fraction is None else 100.0 * float(fraction)


def format_interval(stat: dict | None) -> str:
    """``{mean, lo, hi, n}`` -> '11.6 [3.1, 20.2]'; without an interval '10.1 (1 seed)' or '10.1 (no CI)';
    without a mean '—'."""
    if not stat or stat.get("mean") is None:
        return "—"
    mean = format_percent(stat["mean"])
    if stat.get("lo") is None or stat.get("hi") is None:
        return f"{mean} (1 seed)" if stat.get("n") == 1 else f"{mean} (no CI)"
    return f"{mean} [{format_percent(stat['lo'])}, {format_percent(stat['hi'])}]"


def format_sign_test(sign: dict | None) -> str:
    """``{wins, losses, ties, p}`` -> '1/2, p=1' (wins/losses over seeds; ties named when there are some)."""
    if not sign:
        return "no sign test"
    ties = sign.get("ties") or 0
    tied = f" ({ties} tied)" if ties else ""
    p = sign.get("p")
    return f"{sign.get('wins', 0)}/{sign.get('losses', 0)}{tied}, p={'?' if p is None else format(p, '.3g')}"


@dataclass(frozen=True)
class StudyTableRow:
    """One row of the plan for one test set, formatted for the table."""

    name: str
    title: str
    preset: str
    is_reference: bool
    mAP: str
    R1: str
    seeds: str              # 'finished/planned'
    per_seed_mAP: str       # '12.6 · 7.8 · 14.5'
    per_seed_tooltip: str   # 's0: 12.6, s1: 7.8, …' when the values match the finished seeds
    missing: tuple = ()


@dataclass(frozen=True)
class ForestEntry:
    """One line of the forest plot: row ``row`` minus the reference row, ΔAP in AP points."""

    row: str
    label: str
    mean: float | None
    lo: float | None
    hi: float | None
    per_seed: tuple[float, ...]
    sign_text: str
    n_queries: int | None = None


@dataclass(frozen=True)
class StudyView:
    folder: Path
    data: dict

    # -- the study as a whole --------------------------------------------------------------------------
    @property
    def plan(self) -> dict:
        return self.data.get("plan") or {}

    @property
    def title(self) -> str:
        return self.plan.get("title") or self.plan.get("name") or self.folder.name

    @property
    def reference(self) -> str:
        return self.data.get("reference") or self.plan.get("reference") or ""

    @property
    def test_sets(self) -> list[str]:
        return list(self.data.get("test_sets") or [])

    @property
    def rows(self) -> list[dict]:
        return list(self.data.get("rows") or [])

    @property
    def planned_seeds(self) -> list:
        return list(self.plan.get("seeds") or [])

    def title_of(self, row_name: str) -> str:
        row = self._row(row_name)
        return (row or {}).get("title") or row_name

    def forest_axis_label(self) -> str:
        return f"ΔAP vs {self.title_of(self.reference)} (AP points)"

    # -- per test set ----------------------------------------------------------------------------------
    def table_rows(self, test_set: str) -> list[StudyTableRow]:
        return [self._table_row(row, test_set) for row in self.rows]

    def _table_row(self, row: dict, test_set: str) -> StudyTableRow:
        metrics = (row.get("metrics") or {}).get(test_set) or {}
        values = list((metrics.get("mAP") or {}).get("values") or [])
        finished = list(row.get("seeds") or [])
        planned = self.planned_seeds or sorted({*finished, *row.get("missing", [])})
        per_seed = " · ".join(format_percent(v) for v in values) or "—"
        tooltip = (", ".join(f"s{seed}: {format_percent(v)}" for seed, v in zip(finished, values))
                   if len(values) == len(finished) else per_seed)
        return StudyTableRow(row.get("name", ""), row.get("title") or row.get("name", ""), row.get("preset", ""),
                             row.get("name") == self.reference, format_interval(metrics.get("mAP")),
                             format_interval(metrics.get("R1")), f"{len(finished)}/{len(planned)}", per_seed,
                             tooltip, tuple(row.get("missing") or ()))

    def forest_entries(self, test_set: str) -> list[ForestEntry]:
        """The pairs of kind 'reference' on ``test_set``, in the plan's row order."""
        order = {row.get("name"): index for index, row in enumerate(self.rows)}
        pairs = [pair for pair in self.data.get("pairs") or []
                 if pair.get("kind") == "reference" and pair.get("test_set") == test_set]
        pairs.sort(key=lambda pair: order.get(pair.get("a"), len(order)))
        return [self._forest_entry(pair) for pair in pairs]

    def _forest_entry(self, pair: dict) -> ForestEntry:
        delta = pair.get("delta_ap") or {}
        a, b = pair.get("a", ""), pair.get("b", "")
        return ForestEntry(a, f"{self.title_of(a)} {MINUS} {self.title_of(b)}",
                           points(delta.get("mean")), points(delta.get("lo")), points(delta.get("hi")),
                           tuple(points(v) for v in delta.get("per_seed") or () if v is not None),
                           format_sign_test(pair.get("sign")), delta.get("n_queries"))

    def summary(self, test_set: str) -> str:
        """Plan title, seeds, reference and the sign tests of the forest's pairs, in one line."""
        seeds = ", ".join(str(seed) for seed in self.planned_seeds) or "—"
        parts = [self.title, f"seeds {seeds}", f"reference {self.title_of(self.reference)}"]
        if test_set:
            parts.append(f"test set {test_set}")
        tests = [f"{entry.label} {entry.sign_text}" for entry in self.forest_entries(test_set)]
        if tests:
            parts.append("sign tests over seeds (wins/losses): " + "; ".join(tests))
        return " · ".join(parts)

    # -- run directories -------------------------------------------------------------------------------
    def run_dir(self, row_name: str, seed=None) -> Path | None:
        """The run directory of a row's ``seed``, or of its first finished seed; None when there is none."""
        row = self._row(row_name) or {}
        runs = row.get("runs") or {}
        if seed is None:
            finished = row.get("seeds") or []
            if not finished:
                return None
            seed = finished[0]
        relative = runs.get(str(seed))
        return None if relative is None else self.folder / relative

    def _row(self, row_name: str) -> dict | None:
        return next((row for row in self.rows if row.get("name") == row_name), None)


@dataclass(frozen=True)
class StudyShown:
    """A loaded study on one of its test sets."""

    view: StudyView
    test_set: str


class StudyState(EventedState):
    """The studies of a workspace and the one shown. Signals (each once per change):

    - ``reset()``: another workspace: its studies, the one loading (or none) and an empty view at once;
    - ``studies_changed(tuple)``: the studies listed; ``study_changed(path | None)``: the one shown;
    - ``shown_changed(StudyShown | LiveStudy | Placeholder)``: what the page shows ('loading…', an error, the
      study's statistics, or its runs' live states while it has no study.json);
    - ``selection_changed(name | None)``: the table's row selected; ``can_open_changed(bool)``: Open runs;
    - ``loaded(StudyView)``: a study.json was read; ``error_reported(str)``: it could not be.
    """

    reset = Signal()
    studies_changed = Signal(tuple)
    study_changed = Signal(object)
    shown_changed = Signal(object)
    selection_changed = Signal(object)
    can_open_changed = Signal(bool)
    loaded = Signal(object)
    error_reported = Signal(str)
    error_cleared = Signal()

    EVENTED: ClassVar[dict[str, str]] = {
        "studies": "studies_changed", "study": "study_changed", "shown": "shown_changed",
        "selected_row": "selection_changed", "can_open": "can_open_changed"}

    def __init__(self) -> None:
        super().__init__()
        self.workspace: Path | None = None
        self.studies: tuple[Path, ...] = ()
        self.study: Path | None = None
        self.shown: object = Placeholder(NO_STUDIES)
        self.selected_row: str | None = None
        self.test_set = ""     # the test set drawn last: kept when the study reloads
        self._ticket = 0

    @property
    def view(self) -> StudyView | None:
        return self.shown.view if isinstance(self.shown, StudyShown) else None

    @property
    def live(self) -> LiveStudy | None:
        return self.shown if isinstance(self.shown, LiveStudy) else None

    @property
    def can_open(self) -> bool:
        return self.view is not None and self.selected_row is not None

    @property
    def can_collect(self) -> bool:
        """Every run of the study shown is done and its statistics are not written yet."""
        return self.live is not None and self.live.all_done

    def wants_polling(self, process_for: Path | None = None) -> bool:
        """Read the study shown again: while any of its runs is queued or running (or requeued), or while
        a process of this window works on it (``process_for``: its study folder; it starts and ends runs)."""
        if self.study is not None and process_for is not None and Path(process_for) == self.study:
            return True
        return self.live is not None and self.live.active

    # -- loading --------------------------------------------------------------------------------------------
    def set_workspace(self, path, studies) -> tuple[int, Path] | None:
        """A scan found ``studies``: show the one shown before (when still listed) or the first. Returns the
        load to start ``(ticket, study folder)``; None without studies. Another workspace is one ``reset``."""
        path = Path(path) if path is not None else None
        studies = tuple(Path(folder) for folder in studies)
        study = self.study if self.study in studies else (studies[0] if studies else None)
        with self._changing(reset=path != self.workspace):
            self.workspace, self.studies = path, studies
            if study is None:
                self._ticket += 1     # a load still running for the previous workspace is dropped
                self.study, self.shown, self.selected_row = None, Placeholder(NO_STUDIES), None
                return None
            return self.load(study)

    def load(self, study) -> tuple[int, Path]:
        """Show ``study`` (its study.json is read by the caller, in a worker): 'loading…' until it arrives."""
        with self._changing():
            self._ticket += 1
            self.study, self.selected_row = Path(study), None
            self.shown = Placeholder(f"loading {self.study.name}…")
        return self._ticket, self.study

    def refresh(self) -> tuple[int, Path] | None:
        """Read the study shown again (its runs moved on), keeping it on screen until the answer arrives;
        the load to start ``(ticket, study folder)``, None when no study is shown."""
        if self.study is None:
            return None
        self._ticket += 1
        return self._ticket, self.study

    def update_studies(self, studies) -> tuple[int, Path] | None:
        """The workspace's study folders now (a study started here appeared): the list follows; the study
        shown stays (or, when it went, the first is loaded). Returns the load to start, if any."""
        studies = tuple(Path(folder) for folder in studies)
        with self._changing():
            self.studies = studies
            if self.study not in studies:
                if not studies:
                    self._ticket += 1
                    self.study, self.shown, self.selected_row = None, Placeholder(NO_STUDIES), None
                    return None
                return self.load(studies[0])
        return None

    def show_loaded(self, ticket: int, view) -> None:
        """The study.json of load ``ticket`` (a :class:`StudyView`), or the live states of a study without
        one (a :class:`LiveStudy`); dropped when another load overtook it."""
        if ticket != self._ticket:
            return
        if isinstance(view, LiveStudy):
            with self._changing():
                self.shown, self.selected_row = view, None
            return
        with self._changing():
            sets = view.test_sets
            self.test_set = self.test_set if self.test_set in sets else (sets[0] if sets else "")
            self.shown = StudyShown(view, self.test_set)
            self._event(self.loaded, view)

    def show_failure(self, ticket: int, message: str) -> None:
        """Load ``ticket`` failed: its error in place of the study, and reported."""
        if ticket != self._ticket:
            return
        with self._changing():
            self.shown = Placeholder(message, error=True)
            self.report_error(message)

    # -- what is shown --------------------------------------------------------------------------------------
    def set_test_set(self, test_set: str) -> None:
        view = self.view
        if view is not None:
            with self._changing():
                self.test_set = test_set
                self.shown = StudyShown(view, test_set)

    def select_row(self, row_name: str | None) -> None:
        with self._changing():
            self.selected_row = row_name

    def run_dir_of(self, row_name: str | None) -> Path | None:
        """The run directory of the row's first finished seed (None: no study, no row, no finished seed);
        of a study without statistics yet, the run listed by that name."""
        if self.live is not None:
            return self.live.run_dir(row_name)
        view = self.view
        return view.run_dir(row_name) if view is not None and row_name else None
