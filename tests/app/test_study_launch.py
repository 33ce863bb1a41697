"""Study ▸ New study: a tiny plan started from the panel as a `scing study` child process — on this
machine's processes (local launcher) and on a Slurm cluster (tests/fake_slurm) — shows its runs' live
states (``api.study_status``) until every run is done, then Collect writes study.json and the statistics
appear as for any finished study."""

from __future__ import annotations

import pytest
from scing_core import api

from app.state.study_live import LiveStudy
from tests.support import write_plan


def _record_live(panel) -> list[dict]:
    """Every live view the panel drew: ``{run: state cell}``."""
    seen = []

    def record(shown):
        if isinstance(shown, LiveStudy):
            seen.append(dict(panel.runs_page.table.states()))

    panel.state.shown_changed.connect(record)
    return seen


@pytest.mark.slow
def test_a_study_started_on_local_processes_is_followed_live_then_collected(open_window, tmp_path, tiny_synthped,
                                                                            qtbot):
    plan = write_plan(tmp_path / "tiny.yaml", tiny_synthped, seeds=1)
    workspace = tmp_path / "ws"
    workspace.mkdir()
    window = open_window(workspace)
    panel = window.study
    window.tabs.setCurrentWidget(panel)
    assert panel.new_button.isChecked() and panel.launch_box.isVisible()   # no studies: the form is offered
    seen = _record_live(panel)
    form = panel.launch_form
    form.set_plan(str(plan))
    form.launcher.set_kind("local")
    form.launcher.parallel.setValue(2)
    assert form.start_button.text() == "Start study"
    form.start_button.click()
    assert api.launcher_settings(workspace).kind == "local" and api.launcher_settings(workspace).parallel == 2
    assert panel.process.study_running and panel.runs_page.stop_button.isVisibleTo(panel.runs_page)

    folder = workspace / "studies" / "tiny"
    qtbot.waitUntil(lambda: panel.state.study == folder and panel.state.live is not None, timeout=120_000)
    assert panel.pages.currentWidget() is panel.runs_page
    qtbot.waitUntil(lambda: not panel.process.running, timeout=600_000)
    qtbot.waitUntil(lambda: panel.state.view is not None, timeout=60_000)   # the local study wrote study.json
    states = {state for view in seen for state in view.values()}
    assert any(state.startswith("running") for state in states), seen
    assert "--launcher local --parallel 2" in panel.log.toPlainText()   # the command, then its output
    assert [row.name for row in panel.state.view.table_rows(panel.state.test_set)] == ["clipreid", "scing"]
    assert panel.table.rowCount() == 2 and panel.forest.entries


@pytest.mark.slow
def test_a_study_submitted_to_slurm_shows_queued_and_running_jobs_until_done_and_collects(
        open_window, tmp_path, tiny_synthped, fake_slurm, qtbot):
    plan = write_plan(tmp_path / "tiny.yaml", tiny_synthped, rows=("clipreid", "scing"), seeds=1)
    workspace = tmp_path / "ws"
    workspace.mkdir()
    window = open_window(workspace)
    panel = window.study
    window.tabs.setCurrentWidget(panel)
    seen = _record_live(panel)
    form = panel.launch_form
    form.set_plan(str(plan))
    form.launcher.set_kind("slurm")
    form.launcher.parallel.setValue(2)
    form.launcher.partition.setText("gpu")
    form.launcher.gpus.setValue(0)
    form.launcher.cpus.setValue(1)
    form.launcher.time.setValue(20)
    form.start_button.click()

    folder = workspace / "studies" / "tiny"
    qtbot.waitUntil(lambda: not panel.process.running, timeout=120_000)   # it submits and returns
    assert "submitted 2 runs" in panel.log.toPlainText()
    qtbot.waitUntil(lambda: panel.state.study == folder and panel.state.live is not None
                    and all(run.job_id for run in panel.state.live.runs), timeout=60_000)
    jobs = {run.name: run.job_id for run in panel.state.live.runs}
    assert set(jobs) == {"clipreid-s0", "scing-s0"}
    assert {job.split("_")[0] for job in jobs.values()} == {jobs["scing-s0"].split("_")[0]}   # one job array
    qtbot.waitUntil(lambda: panel.state.can_collect, timeout=600_000)
    assert any(cell.startswith(("queued", "running")) for view in seen for cell in view.values()), seen
    assert set(panel.runs_page.table.states().values()) == {"done"}
    assert panel.runs_page.collect_button.isVisibleTo(panel.runs_page)
    panel.runs_page.collect_button.click()
    qtbot.waitUntil(lambda: panel.state.view is not None, timeout=120_000)
    assert (folder / "study.json").is_file() and panel.table.rowCount() == 2
    assert panel.pages.currentIndex() == 0 and not panel.banner.message
