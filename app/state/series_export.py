"""The Training plots' series as a file: every line drawn, point by point, as CSV or JSON.

:func:`series_records` flattens ``app.state.training_overlay.PlotLine`` lists into records
(run, plot, series, x-axis kind, x, y); :func:`export_series` writes them, CSV or JSON by the file's
extension, atomically (a temporary file beside it, then ``os.replace``: an existing file is never
left half-written).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from app.state.studio_files import write_text_file

FIELDS = ("run", "plot", "series", "x_axis", "x", "y")
FORMATS = (".csv", ".json")
PLOT_NAMES = {"loss1": "stage 1 losses", "loss2": "stage 2 losses", "eval": "evaluation"}


def series_records(lines, x_axis: str) -> list[dict]:
    """One record per drawn point of every line, in drawing order."""
    return [{"run": line.run, "plot": PLOT_NAMES.get(line.plot, line.plot), "series": line.series,
             "x_axis": x_axis, "x": x, "y": y}
            for line in lines for x, y in zip(line.x, line.y)]


def export_series(lines, x_axis: str, path) -> Path:
    """Write the drawn ``lines`` to ``path`` (``.csv`` or ``.json``); returns the path written."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"cannot export series to '{path.name}': name the file .csv or .json")
    records = series_records(lines, x_axis)
    if not records:
        raise ValueError("no series are drawn: select or tick runs with events first")
    if suffix == ".json":
        text = json.dumps({"x_axis": x_axis, "points": records}, indent=1)
    else:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
        text = buffer.getvalue()
    return write_text_file(path, text)

