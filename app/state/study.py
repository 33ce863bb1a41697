"""What the Study panel shows of a ``study.json`` (written by ``scing study``; docs/studies.md), without Qt.

:class:`StudyView` wraps a study folder and its loaded ``study.json`` and answers, for one test set:
the rows table (mean and 95 % interval of mAP and R1 over seeds, in AP points), the forest plot
entries (the paired per-query ΔAP of every row against the reference row), a one-line summary with
the sign tests, and the run directory of a row's seed. Values in study.json are fractions 0..1;
everything here is in percentage points with one decimal. An interval may be missing (one seed).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from app.state.runs import format_percent

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
