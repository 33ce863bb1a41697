"""The Training panel's hyper-parameter table (TensorBoard's HParams view), as plain data.

Rows are runs; columns are the flattened config keys (``stage2.lr``, ``model.gate``) whose values differ
between those runs — what was varied — then the final metrics (mAP and R1 of the first test set,
:mod:`app.state.test_sets`) last. :func:`sort_key` orders a column's cells: numbers numerically,
text alphabetically, missing values last.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

IGNORED_KEYS = ("name",)    # the run's own name: the first column already shows it
METRIC_COLUMNS = ("final mAP %", "final R1 %")
MISSING = "—"


def flatten(config, prefix: str = "") -> dict[str, object]:
    """``{"a": {"b": 1}, "c": [1, 2]}`` -> ``{"a.b": 1, "c": [1, 2]}`` (lists stay values)."""
    if not isinstance(config, dict):
        return {prefix: config} if prefix else {}
    flat: dict[str, object] = {}
    for key, value in config.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and value:
            flat.update(flatten(value, name))
        else:
            flat[name] = value
    return flat


def differing_keys(configs) -> list[str]:
    """The flattened keys whose values are not the same in every one of ``configs`` (a key missing from
    some counts as differing), in the order they first appear; none for fewer than two configs."""
    flats = [flatten(config or {}) for config in configs]
    if len(flats) < 2:
        return []
    order = list(dict.fromkeys(key for flat in flats for key in flat))
    return [key for key in order if key not in IGNORED_KEYS
            and len({_canonical(flat.get(key, _Absent)) for flat in flats}) > 1]


@dataclass(frozen=True)
class HparamsRow:
    path: Path
    name: str
    values: tuple      # one per column after the name: config values, then the metrics (percent)


@dataclass(frozen=True)
class HparamsTable:
    columns: tuple     # "run", the differing keys, then METRIC_COLUMNS
    rows: tuple
    metrics_split: str = ""   # the test set the metrics come from (when the runs agree on one)

    @property
    def keys(self) -> tuple:
        return self.columns[1:len(self.columns) - len(METRIC_COLUMNS)]


def hparams_table(rows, configs: dict) -> HparamsTable:
    """The table of ``rows`` (``app.state.runs.RunRow``, already on their first test set) with their
    ``configs`` (``{path: config dict}``; a run without one has every key missing)."""
    rows = [row for row in rows if not row.damaged]
    keys = differing_keys([configs.get(row.path) or {} for row in rows])
    table_rows = []
    for row in rows:
        flat = flatten(configs.get(row.path) or {})
        values = tuple(flat.get(key) for key in keys) + (_percent(row.mAP), _percent(row.R1))
        table_rows.append(HparamsRow(row.path, row.name, values))
    splits = {row.metrics_split for row in rows if row.mAP is not None}
    return HparamsTable(("run", *keys, *METRIC_COLUMNS), tuple(table_rows), splits.pop() if len(splits) == 1 else "")


def cell_text(value) -> str:
    """How a cell shows a value: numbers compactly, lists as JSON, missing as '—'."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value)
    return str(value)


def sort_key(value) -> tuple:
    """Numbers before text, numbers numerically, text alphabetically, missing (None / NaN) last."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return (2, 0.0, "")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, float(value), "")
    return (1, 0.0, cell_text(value).lower())


class _Absent:
    """A key missing from a config (differs from every value, None included)."""


def _canonical(value) -> str:
    if value is _Absent:
        return "\0absent"
    return json.dumps(value, sort_keys=True, default=str)


def _percent(value) -> float | None:
    return None if value is None else round(100.0 * value, 2)
