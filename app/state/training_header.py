"""What the Training panel says about the selected run: its title, one progress line, the details box
(HTML) and the progress bar (0..1000) — from its row, its derived status and its curves, if read."""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

from app.state.curves import TrainingCurves, describe_config

NO_SELECTION = "Select a run to see its settings and results."
ERROR_COLOUR = "#8A1C12"


@dataclass(frozen=True)
class RunHeader:
    title: str
    progress_text: str
    details_html: str
    progress: int = 0   # per mille: stage 1 fills the first half, stage 2 the second


def describe_selected(row, status: str, curves: TrainingCurves | None, error: str | None = None,
                      job=None) -> RunHeader:
    """The header of ``row`` (an ``app.state.runs.RunRow`` or None); ``error``: why its events could not be
    read; ``job``: the scheduler's job that trains it (``app.state.runs_status.JobFacts``), if any."""
    header = _describe(row, status, curves, error)
    if job is None or row is None or row.damaged:
        return header
    line = f"<span style='color:#555'>scheduler:</span> {html.escape(job.describe())}"
    progress_text = header.progress_text
    if status == "queued":
        progress_text = f"queued: {job.describe()}"
    return RunHeader(header.title, progress_text, header.details_html + "<br>" + line, header.progress)


def _describe(row, status: str, curves: TrainingCurves | None, error: str | None) -> RunHeader:
    if row is None:
        return RunHeader("Select a run", "", NO_SELECTION)
    heading = f"<b>{row.name}</b> <span style='color:#777'>{row.path}</span><br>"
    if row.damaged:
        return RunHeader(f"{row.name} — damaged", row.problem,
                         heading + f"<span style='color:{ERROR_COLOUR}'>This run cannot be read: {row.problem}</span>")
    title = f"{row.name} — {status}"
    if curves is None:
        if error:
            text = f"could not read the events: {error}"
            return RunHeader(title, text, heading + f"<span style='color:{ERROR_COLOUR}'>{text}</span>")
        return RunHeader(title, "loading events…", heading + "loading events…")
    finals = "  ·  ".join(f"{name}: mAP {100 * (m.get('mAP') or 0):.1f}  R1 {100 * (m.get('R1') or 0):.1f}"
                          for name, m in curves.final_metrics.items())
    text = finals if status == "completed" and finals else curves.progress.describe()
    if curves.errors and status == "failed":
        text = f"error: {curves.errors[-1]}"
    fraction = curves.progress.fraction_of_stage()
    stage_offset = 0.5 if curves.progress.stage == 2 else 0.0
    progress = 1000 if status == "completed" else int(1000 * (stage_offset + 0.5 * (fraction or 0.0)))
    return RunHeader(title, text, details_html(row.path, curves), progress)


def details_html(path: Path, curves: TrainingCurves) -> str:
    """The details box: key settings, final metrics, where the numbers come from, training time."""
    rows = describe_config(curves.config, curves.device, curves.world_size, curves.recipe)
    lines = [f"<b>{path.name}</b> <span style='color:#777'>{path}</span>"]
    lines += [f"<span style='color:#555'>{label}:</span> {value}" for label, value in rows]
    for name, metrics in curves.final_metrics.items():
        values = " · ".join(f"{k} {100 * v:.1f}" for k, v in metrics.items() if v is not None)
        lines.append(f"<span style='color:#555'>final on {name}:</span> <b>{values}</b>")
    if curves.final_metrics and curves.selection_label:
        colour = "#b35900" if "optimistic" in curves.selection_label else "#555"
        lines.append(f"<span style='color:#555'>numbers from:</span> "
                     f"<span style='color:{colour}'>{curves.selection_label}</span>")
    if curves.errors:   # in full here (it wraps); the progress line above the plots is elided
        lines.append(f"<span style='color:{ERROR_COLOUR}'>error: {html.escape(curves.errors[-1])}</span>")
    if curves.seconds:
        lines.append(f"<span style='color:#555'>training time:</span> {curves.seconds / 60:.1f} min")
    if not rows and not curves.final_metrics:
        started = curves.device or curves.status != "not-started"
        lines.append(f"settings: in {path / 'config.yaml'} (its run_started event carries none)" if started
                     else "no run_started event yet")
    return "<br>".join(lines)
