"""Training ▸ New run on a Slurm cluster (the stand-in commands of tests/fake_slurm): the run is
submitted, listed at once as queued, then with its job id, followed live from its run directory and
seen to complete — its state from the scheduler (``api.run_job``), its curves from its events."""

from __future__ import annotations

import pytest
from scing_core import api

from tests.support import quick_overrides


def _status(panel, run):
    row = panel.runs.rows[panel.runs.index_of(run)] if panel.runs.index_of(run) is not None else None
    return panel.runs.status_of(row) if row is not None else None


@pytest.mark.slow
def test_a_run_submitted_to_slurm_is_queued_with_its_job_then_followed_until_it_completes(
        open_window, tmp_path, tiny_synthped, fake_slurm, qtbot):
    workspace = tmp_path / "ws"
    (workspace / "runs").mkdir(parents=True)
    window = open_window(workspace)
    panel, form = window.training, window.training.form
    seen, cells, stops = [], [], []   # every status, what the table's status cell said, Stop then
    run = workspace / "runs" / "cluster"

    def record(changed):
        seen.extend(changed.values())
        index = panel.runs.index_of(run)
        if index is not None:
            cells.append(panel.table.item(index, 3).text())
            stops.append((panel.stop_button.isEnabled(), panel.stop_button.toolTip()))

    panel.runs.statuses_changed.connect(record)
    form.name.setText("cluster")
    form.data_root.setText(str(tiny_synthped))
    form.overrides.setText(" ".join(o for o in quick_overrides(tiny_synthped) if not o.startswith("data.root=")))
    form.launcher.set_kind("slurm")
    form.launcher.partition.setText("debug")
    form.launcher.gpus.setValue(0)
    form.launcher.cpus.setValue(2)
    form.launcher.time.setValue(30)
    assert form.start_button.text() == "Submit to Slurm" and not form.nproc.isEnabled()
    form.start_button.click()

    assert panel.runs.selected == run and _status(panel, run) == "queued"   # listed at once
    assert not panel.stop_button.isEnabled()                                # nothing to stop while it submits
    saved = api.launcher_settings(workspace)                                # the form's values, saved back
    assert (saved.kind, saved.partition, saved.gpus_per_run, saved.cpus_per_run, saved.time_min) == (
        "slurm", "debug", 0, 2, 30)

    qtbot.waitUntil(lambda: panel.runs.job_of(run) is not None, timeout=120_000)
    job = panel.runs.job_of(run)
    assert job.launcher == "slurm" and job.job_id
    assert {"queued · submitting…", f"queued · job {job.job_id}", f"running · job {job.job_id}"} & set(cells)
    held = [stop for cell, stop in zip(cells, stops) if f"· job {job.job_id}" in cell]
    assert held and all(enabled and "scancel" in tooltip for enabled, tooltip in held)   # Stop asks the scheduler
    script = next((run / "submitit").glob("*_submission.sh")).read_text()
    for line in ("#SBATCH --partition=debug", "#SBATCH --time=30", "#SBATCH --signal=USR2@90",
                 "#SBATCH --cpus-per-task=2"):
        assert line in script, line

    qtbot.waitUntil(lambda: _status(panel, run) == "completed", timeout=600_000)
    assert seen.index("queued") < seen.index("running") < seen.index("completed")
    curves = panel.curves[run]
    assert curves.losses(1) and curves.losses(2) and curves.evals, "followed live from its run directory"
    assert not panel.stop_button.isEnabled() and not panel.resume_button.isEnabled()
    qtbot.waitUntil(lambda: any(r.path == run and r.status == "completed" for r in panel.runs.rows), timeout=60_000)
    qtbot.waitUntil(lambda: panel.runs.job_of(run).raw == "COMPLETED", timeout=60_000)   # the rescan asked again
    assert f"Slurm job {job.job_id} · COMPLETED" in panel.details.text()
