"""The query list as the Retrieval panel shows it, for a file: CSV or JSON (by the file's extension).

One row per listed query, in the order shown: image path, the dataset's person id and camera number, AP,
the rank of the first true match (junk excluded, 1-based, as the '1st hit' column), ΔAP against the
compared run (empty without one) and the query's tags. AP and ΔAP are fractions (0.25 = 25 %).
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

from app.state.retrieval import camera_number
from app.state.studio_files import write_text_file

COLUMNS = ("query_index", "path", "person_id", "camera", "ap", "first_hit_rank", "delta_ap", "tags")
FORMATS = (".csv", ".json")


def export_rows(state) -> list[dict]:
    """The listed queries of ``state`` (a ``RetrievalState``), in display order; None where a value is
    missing (a query the protocol skipped, no compared run)."""
    compared = state.reference_name is not None
    rows = []
    for row in state.visible_rows():
        delta = state.delta(row.index) if compared else math.nan
        rows.append({"query_index": row.index, "path": row.path, "person_id": row.pid,
                     "camera": camera_number(row.camid), "ap": None if math.isnan(row.ap) else round(row.ap, 6),
                     "first_hit_rank": row.first_hit + 1 if row.first_hit >= 0 else None,
                     "delta_ap": None if math.isnan(delta) else round(delta, 6),
                     "tags": list(state.extras.tags_of(row.index))})
    return rows


def export_format(path) -> str:
    """'.csv' or '.json'; ValueError (one line) for another extension."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"cannot export queries as '{suffix or Path(path).name}': name the file .csv or .json")
    return suffix


def write_export(path, rows: list[dict], about: dict | None = None) -> Path:
    """Write ``rows`` (:func:`export_rows`) atomically: CSV (tags joined by '; ', missing values empty) or
    JSON (``{"about": …, "queries": [...]}``)."""
    if export_format(path) == ".json":
        return write_text_file(path, json.dumps({"about": about or {}, "queries": rows}, indent=1,
                                                ensure_ascii=False) + "\n")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(["" if row[c] is None else "; ".join(row[c]) if c == "tags" else row[c] for c in COLUMNS])
    return write_text_file(path, out.getvalue())
