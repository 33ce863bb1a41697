"""The rules for runs submitted to a scheduler and for the launch forms, without a display: a submitted
run's status comes from its job (``api.run_job``), Stop asks the scheduler and Resume submits again,
the scheduler is polled only while a submitted run is queued or running, the launcher values follow the
workspace, and a study without statistics yet is followed until every run is done."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from app.state.launcher import INLINE, LOCAL, SLURM, STUDY_TARGETS, TRAINING_TARGETS, LauncherDefaults, \
    LauncherValues, kind_to_save
from app.state.runs import RunRow
from app.state.runs_status import JobFacts, RunFacts, derive_status
from app.state.study import StudyState
from app.state.study_live import LiveStudy, build_study_request, start_label, study_folder
from app.state.training import RESUME_TOOLTIP, TrainingState

WS = Path("/ws")
RUN = WS / "runs" / "cluster"


def _job(state, raw="", launcher="slurm", job_id="1042", node=""):
    return JobFacts(launcher, job_id, state, raw, node)


# -- a submitted run's status ----------------------------------------------------------------------------------
@pytest.mark.parametrize("facts, expected", [
    (RunFacts("not-started", submitting=True), "queued"),                              # sbatch runs now
    (RunFacts("not-started", job=_job("queued", "PENDING")), "queued"),
    (RunFacts("not-started", events="running", last_event_age=2.0, job=_job("queued", "PENDING")), "running"),
    (RunFacts("stopped", events="stopped", job=_job("queued", "REQUEUED")), "queued"),   # preempted, requeued
    (RunFacts("not-started", job=_job("running", "RUNNING", node="n07")), "running"),
    (RunFacts("completed", events="completed", job=_job("running", "COMPLETING")), "completed"),
    (RunFacts("stopped", events="stopped", job=_job("ended", "COMPLETED")), "stopped"),
    (RunFacts("not-started", job=_job("ended", "CANCELLED")), "stopped"),              # cancelled while queued
    (RunFacts("running-or-killed", events="running", job=_job("ended", "TIMEOUT")), "killed"),
    (RunFacts("running-or-killed", events="running", job=_job("ended", "FAILED")), "failed"),
    (RunFacts("running-or-killed", writer=True, job=_job("ended", "NODE_FAIL")), "killed"),   # a lock of a dead node
    (RunFacts("running-or-killed", writer=True, job=_job("unknown", "sacct failed: OSError")), "running"),
])
def test_a_submitted_runs_status_comes_from_its_scheduler_job(facts, expected):
    assert derive_status(facts) == expected


def _submitted(status="not-started"):
    state = TrainingState()
    state.set_rows([RunRow("cluster", RUN, "scing", "synthped", status)], select=RUN)
    return state


def test_a_run_submitted_here_stays_queued_until_a_later_poll_answers_with_its_job():
    state = _submitted()
    state.set_facts({RUN: RunFacts("not-started", submitting=True)})
    assert state.status_text(state.rows[0]) == "queued · submitting…" and not state.actions.stop
    early = state.poll_started()                              # a poll that started before sbatch returned
    state.set_facts({RUN: RunFacts("not-started")})           # the submitting process ended ...
    state.submitted(RUN)
    assert state.runs_to_poll() == [RUN]
    state.set_jobs({RUN: None}, early)                        # ... and that poll saw no job yet: still queued
    assert state.status_of(state.rows[0]) == "queued"
    emitted = []
    state.statuses_changed.connect(emitted.append)
    state.set_jobs({RUN: SimpleNamespace(launcher="slurm", job_id="1042", state="queued", raw="PENDING", node="")},
                   state.poll_started())
    assert state.status_of(state.rows[0]) == "queued" and state.status_text(state.rows[0]) == "queued · job 1042"
    assert emitted == [{RUN: "queued"}]                       # the job id appeared: the table redraws
    assert state.job_of(RUN).describe() == "Slurm job 1042 · PENDING"


def test_the_scheduler_is_polled_only_while_a_submitted_job_is_queued_or_running():
    state = TrainingState()
    rows = [RunRow(name, WS / "runs" / name, "scing", "synthped", "completed") for name in ("a", "b", "local")]
    state.set_rows(rows)
    state.set_facts({row.path: RunFacts("completed") for row in rows})
    assert state.runs_to_poll() == [] and len(state.runs_to_poll(everything=True)) == 3   # after a scan: all
    state.set_jobs({WS / "runs" / "a": _job("running", "RUNNING"), WS / "runs" / "b": _job("ended", "COMPLETED"),
                    WS / "runs" / "local": None})
    assert state.runs_to_poll() == [WS / "runs" / "a"]   # completed by its events, but its job still runs
    state.set_jobs({WS / "runs" / "a": _job("ended", "COMPLETED")})
    assert state.runs_to_poll() == []


def test_stop_on_a_submitted_run_asks_the_scheduler_and_waits_for_its_status_to_change():
    state = _submitted()
    state.set_jobs({RUN: _job("queued", "PENDING")})
    state.set_facts({RUN: RunFacts("not-started")})
    actions = state.actions
    assert actions.stop and actions.stop_job and not actions.resume and "Cancel the queued job 1042" in actions.stop_tooltip
    state.set_jobs({RUN: _job("running", "RUNNING")})
    assert state.actions.stop_job and "scancel --signal=INT" in state.actions.stop_tooltip
    state.stop_requested(RUN)
    assert not state.actions.stop and "waiting for job 1042" in state.actions.stop_tooltip
    state.set_facts({RUN: RunFacts("not-started", events="running", last_event_age=1.0)})   # still running
    assert not state.actions.stop
    state.set_jobs({RUN: _job("ended", "COMPLETED")})
    state.set_facts({RUN: RunFacts("not-started", events="stopped")})
    assert state.status_of(state.rows[0]) == "stopped"
    assert state.actions.resume and state.actions.resubmit == "slurm" and not state.actions.stop
    assert "Submit the run again to Slurm" in state.actions.resume_tooltip


def test_a_run_a_local_launcher_trained_resumes_here_and_a_failed_stop_frees_the_button():
    state = _submitted()
    state.set_jobs({RUN: _job("running", "RUNNING", launcher="local", job_id="4242")})
    state.set_facts({RUN: RunFacts("not-started", writer=True)})
    state.stop_requested(RUN)
    assert not state.actions.stop
    state.stop_failed(RUN)
    assert state.actions.stop and state.actions.stop_job
    state.set_jobs({RUN: _job("ended", "EXITED", launcher="local", job_id="4242")})
    state.set_facts({RUN: RunFacts("not-started", events="failed")})
    assert state.actions.resume and state.actions.resubmit == "" and state.actions.resume_tooltip == RESUME_TOOLTIP


def test_a_submitted_run_that_ends_asks_for_a_rescan_and_another_workspace_forgets_the_jobs():
    state = _submitted()
    state.set_jobs({RUN: _job("running", "RUNNING")})
    state.set_facts({RUN: RunFacts("not-started")})
    assert state.running_elsewhere() == [RUN]            # followed from its run directory
    ended = []
    state.runs_ended_elsewhere.connect(ended.append)
    state.set_facts({RUN: RunFacts("not-started", events="completed")})
    assert ended == [[RUN]]
    state.show_scan(Path("/other"), [], jobs={}, new_workspace=True)
    assert state.jobs == {} and state.runs_to_poll() == []


# -- the launch forms' values ----------------------------------------------------------------------------------
def _settings(**values):
    return SimpleNamespace(**{**LauncherValues().changes(), **values})


def test_launcher_values_follow_the_workspace_and_a_rescan_keeps_what_the_user_typed():
    defaults = LauncherDefaults()
    first = defaults.values_for(WS, _settings(kind=SLURM, partition="gpu", time_min=90))
    assert (first.kind, first.partition, first.time_min) == (SLURM, "gpu", 90)
    assert defaults.values_for(WS, _settings(partition="other")) is None      # the same workspace: keep the form
    second = defaults.values_for(Path("/ws2"), _settings())
    assert second == LauncherValues() and second.changes()["kind"] == INLINE
    local = LauncherValues(kind=LOCAL, parallel=3)
    assert local.offered(TRAINING_TARGETS).kind == INLINE and local.offered(STUDY_TARGETS) == local
    assert kind_to_save(LOCAL, INLINE) == LOCAL and kind_to_save(SLURM, INLINE) == INLINE
    assert kind_to_save(INLINE, SLURM) == SLURM
    assert LauncherValues(SLURM, partition="gpu", gpus_per_run=2, cpus_per_run=8, time_min=60).describe() == \
        "Slurm (partition gpu, 2 GPUs, 8 CPUs, 60 min)"


# -- a study without statistics yet ----------------------------------------------------------------------------
def _status(name, state, scheduler="", fraction=0.0, **extra):
    return SimpleNamespace(name=name, row=name.split("-")[0], seed=0, state=state, job_id=extra.get("job_id", ""),
                           node=extra.get("node", ""), epoch=extra.get("epoch", ""), error=extra.get("error", ""),
                           fraction=fraction, launcher="slurm", scheduler=scheduler)


def test_a_live_study_says_what_runs_and_is_followed_while_any_run_may_change(tmp_path):
    folder = tmp_path / "studies" / "tiny"
    live = LiveStudy.of(folder, [_status("a-s0", "running", "RUNNING", 0.5, job_id="7_0", epoch="stage 2, epoch 1/2"),
                                 _status("b-s0", "queued", "PENDING", job_id="7_1"),
                                 _status("c-s0", "failed", "FAILED", error="ValueError: bad")])
    assert live.counts() == {"running": 1, "queued": 1, "failed": 1} and live.active and not live.all_done
    assert live.summary().startswith("tiny · 3 runs: 1 running, 1 queued, 1 failed")
    assert live.runs[0].cells() == ("a-s0", "running", "7_0", "—", "stage 2, epoch 1/2", "")
    assert live.runs[1].cells()[1] == "queued (PENDING)" and live.runs[2].cells()[1:] == ("failed", "—", "—",
                                                                                         "—", "ValueError: bad")
    assert live.progress() == 166 and live.run_dir("b-s0") == folder / "runs" / "b-s0" and live.run_dir("x") is None
    requeued = LiveStudy.of(folder, [_status("a-s0", "preempted", "PENDING"), _status("b-s0", "done", "COMPLETED", 1.0)])
    assert requeued.active   # the scheduler holds the preempted run again
    done = LiveStudy.of(folder, [_status("a-s0", "done", "COMPLETED", 1.0)])
    assert done.all_done and not done.active and "Collect" in done.summary()

    state = StudyState()
    ticket, _ = state.set_workspace(tmp_path, [folder])
    state.show_loaded(ticket, live)
    assert state.live == live and state.wants_polling() and not state.can_collect
    assert state.run_dir_of("a-s0") == folder / "runs" / "a-s0"
    shown = []
    state.shown_changed.connect(shown.append)
    ticket, again = state.refresh()
    state.show_loaded(ticket, LiveStudy.of(folder, [_status(r.name, r.state, r.scheduler, r.fraction, job_id=r.job_id,
                                                            epoch=r.epoch, error=r.error) for r in live.runs]))
    assert again == folder and shown == []   # nothing changed: nothing drawn again
    state.show_loaded(state.refresh()[0], done)
    assert shown == [done] and state.can_collect and not state.wants_polling()
    assert state.wants_polling(process_for=folder)   # a process of this window works on it


def test_the_study_form_continues_a_study_that_exists_and_says_what_is_missing(tmp_path):
    assert study_folder(tmp_path, "study/table3-synthped") == tmp_path / "studies" / "table3-synthped"
    assert study_folder(tmp_path, "/plans/tiny.yaml") == tmp_path / "studies" / "tiny"
    existing = [tmp_path / "studies" / "tiny"]
    request = build_study_request(tmp_path, "/plans/tiny.yaml", 0, existing, launcher="L")
    assert request.resume and request.seeds is None and request.folder == existing[0] and request.launcher == "L"
    assert not build_study_request(tmp_path, "study/table3-synthped", 3, existing).resume
    assert start_label(tmp_path, "/plans/tiny.yaml", existing) == "Continue study"
    assert start_label(tmp_path, "study/table3-synthped", existing) == "Start study"
    with pytest.raises(ValueError, match="choose a plan"):
        build_study_request(tmp_path, " ", 0, [])
    with pytest.raises(ValueError, match="does not exist"):
        build_study_request(tmp_path, "/nowhere/plan.yaml", 0, [], plan_exists=False)


def test_a_study_that_appears_is_listed_without_reloading_the_one_shown(tmp_path):
    state = StudyState()
    first, second = tmp_path / "studies" / "a", tmp_path / "studies" / "b"
    state.set_workspace(tmp_path, [first])
    assert state.update_studies([first, second]) is None and state.study == first and state.studies == (first, second)
    ticket, folder = state.update_studies([second])   # the one shown went: the first left is loaded
    assert folder == second and state.study == second
