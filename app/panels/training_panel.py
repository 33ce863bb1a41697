"""Training: the workspace's runs, a "New run" form, live curves and the process log.

Training never runs in this process: a run starts as ``scing train`` in a QProcess
(:class:`app.services.training_process.TrainingJob`); its curves come from events.jsonl. Selecting
a run this window did not start reads its events in a worker and keeps following the file, so a
run started elsewhere (a terminal, another studio) shows live too.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QLabel, QProgressBar, QPushButton, QSplitter, QVBoxLayout, QWidget

from app.services import core_client
from app.services.training_process import EventStream, TrainingJob
from app.services.workers import WorkerPool
from app.state.curves import TrainingCurves, describe_config
from app.state.runs import RESUMABLE_STATUSES, RunListState, RunRow
from app.widgets.error_banner import ErrorBanner
from app.widgets.layout import STRETCH, hbox, vbox, widget_of
from app.widgets.log_view import LogView
from app.widgets.new_run_form import NewRunForm
from app.widgets.run_table import RunTable
from app.widgets.training_plots import TrainingPlotsWidget

EXTERNAL_LIVE_SECONDS = 90   # a run not started here counts as running when its last event is this recent


class TrainingPanel(QWidget):
    errorOccurred = Signal(str)
    statusMessage = Signal(str)
    runsChanged = Signal()          # the workspace should be rescanned (a run appeared or finished)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.workspace: Path | None = None
        self.runs = RunListState()
        self.jobs: dict[Path, TrainingJob] = {}
        self.curves: dict[Path, TrainingCurves] = {}
        self.stream: EventStream | None = None      # follows the selected run when no job of ours does
        self.workers = WorkerPool(self)
        self._load_token = 0
        self._external_live = False   # the followed external run has recent events
        self._build()

    # -- layout ------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.banner = ErrorBanner()
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self._build_run_list())
        splitter.addWidget(self._build_run_view())
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 5)
        splitter.setSizes([470, 930])
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addWidget(splitter, 1)
        self._update_buttons()

    def _build_run_list(self) -> QWidget:
        self.table = RunTable(self.runs)
        self.table.runSelected.connect(self.show_run)
        self.refresh_button = _button("Refresh", "Rescan the workspace for run directories", self.runsChanged)
        self.resume_button = _button("Resume", "Continue the selected run from checkpoints/last.pt "
                                     "(scing train --resume)", self.resume_selected)
        self.stop_button = _button("Stop", "SIGTERM: the run writes a checkpoint and ends 'stopped'; Resume "
                                   "continues it", self.stop_selected)
        self.form = NewRunForm()
        self.form.launchRequested.connect(self.launch)
        self.form.invalid.connect(self._report_error)
        self.empty_label = QLabel()
        self.empty_label.setWordWrap(True)
        self.empty_label.setStyleSheet("color: #666;")
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.details.setStyleSheet("QLabel { background: white; border: 1px solid #D0D0D0; padding: 6px; }")
        buttons = hbox(self.refresh_button, self.resume_button, self.stop_button, STRETCH)
        return widget_of(vbox(QLabel("<b>Runs in this workspace</b>"), (self.table, 2), self.empty_label,
                              (self.details, 1), buttons, self.form))

    def _build_run_view(self) -> QWidget:
        self.title = QLabel("Select a run")
        self.title.setStyleSheet("font-size: 13pt; font-weight: bold;")
        self.progress_label = QLabel("")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setFixedHeight(8)
        self.plots = TrainingPlotsWidget()
        self.log_scale = QCheckBox("log-scale losses")
        self.log_scale.setToolTip("Show loss axes on a log scale (small terms become readable)")
        self.log_scale.toggled.connect(self.plots.set_log_losses)
        self.log = LogView(placeholder="Console output of runs started from this window appears here.")
        view = QSplitter(Qt.Orientation.Vertical)
        header = hbox((self.title, 1), self.log_scale)
        view.addWidget(widget_of(vbox(header, self.progress_label, self.progress, (self.plots, 1))))
        view.addWidget(self.log)
        view.setStretchFactor(0, 4)
        view.setStretchFactor(1, 1)
        return view

    # -- workspace -----------------------------------------------------------------------------------
    def set_workspace(self, workspace, rows: list[RunRow]) -> None:
        """New scan results (same or another workspace); keeps the selection and running jobs."""
        changed = self.workspace is None or Path(workspace) != self.workspace
        self.workspace = Path(workspace)
        rows = list(rows) + [self._placeholder_row(path) for path in self.jobs
                             if path not in {row.path for row in rows} and path.parent.parent == self.workspace]
        self.runs.set_rows(rows)
        self.table.refresh()
        self.form.set_workspace(self.workspace, [row.name for row in rows], self._default_data_root())
        self.empty_label.setText("" if rows else "No runs yet. Fill in 'New run' below and press Start training "
                                                 "(synthped · scing · quick trains in a few minutes on a laptop CPU).")
        self.empty_label.setVisible(not rows)
        if changed or self.runs.selected is None:
            preferred = next((path for path, job in self.jobs.items() if job.is_running()), None)
            target = preferred or (rows[0].path if rows else None)
            self.runs.select(target)
            self.table.refresh()
            self.show_run(self.runs.selected)
        self._update_buttons()

    def set_presets(self, presets: list[str]) -> None:
        self.form.set_presets(presets)

    def _default_data_root(self) -> str:
        candidate = self.workspace / "data" / "synthped" if self.workspace else None
        return str(candidate) if candidate is not None and candidate.is_dir() else ""

    # -- selection and curves ------------------------------------------------------------------------
    def select_run(self, path) -> None:
        """Select the run at ``path`` in the table and show it."""
        self.runs.select(path)
        self.table.refresh()
        self.show_run(self.runs.selected)

    def show_run(self, path) -> None:
        """Show the run's curves and log; follow its events while it may still be running."""
        self._load_token += 1
        if self.stream is not None:
            self.stream.stop()
            self.stream.deleteLater()
            if self.stream.run_dir not in self.jobs:
                self.runs.set_live_status(self.stream.run_dir, None)
                self.table.refresh()
            self.stream = None
            self._external_live = False
        self._update_buttons()
        if path is None:
            self.title.setText("Select a run")
            self.details.setText("Select a run to see its settings and results.")
            self.progress_label.setText("")
            self.plots.clear("select a run")
            self.log.set_text("")
            return
        path = Path(path)
        self.title.setText(path.name)
        damaged = next((row for row in self.runs.rows if row.path == path and row.damaged), None)
        if damaged is not None:   # listed with its reason; nothing of it can be drawn
            self.title.setText(f"{path.name} — damaged")
            self.details.setText(f"<b>{path.name}</b> <span style='color:#777'>{path}</span><br>"
                                 f"<span style='color:#8A1C12'>This run cannot be read: {damaged.problem}</span>")
            self.progress_label.setText(damaged.problem)
            self.plots.clear("damaged run: nothing to draw")
            self.log.set_text("")
            return
        job = self.jobs.get(path)
        if job is not None:
            self.log.set_text("".join(job.log_text))
            self._draw(path)
            return
        self.log.set_text("")
        self.log.setPlaceholderText("This run was not started from this window: its console output is not "
                                    "available here; the curves come from its events.jsonl.")
        self.plots.clear("loading events…")
        token = self._load_token
        self.workers.start(core_client.read_run_events, path, on_result=lambda result: self._events_loaded(token, path, result),
                           on_error=self._report_error)

    def _events_loaded(self, token: int, path: Path, result) -> None:
        if token != self._load_token:
            return   # the user selected another run meanwhile
        follower, events = result
        curves = TrainingCurves()
        curves.add(events)
        self.curves[path] = curves
        self.plots.clear("no step or eval events yet")
        self._draw(path)
        if curves.status in ("running", "not-started"):   # maybe running elsewhere: keep reading the file
            self.stream = EventStream(path, self)
            self.stream.follower = follower
            self.stream.eventsArrived.connect(lambda new, p=path: self._on_events(p, new))
            self.stream.start()
            last_time = float(events[-1].get("time", 0) or 0) if events else 0.0
            self._mark_external(path, live=time.time() - last_time < EXTERNAL_LIVE_SECONDS)

    def _mark_external(self, path: Path, live: bool) -> None:
        """A run started elsewhere: 'running' while its events are recent, its own status otherwise."""
        if live != self._external_live:
            self._external_live = live
            self.runs.set_live_status(path, "running" if live else None)
            self.table.refresh()
            self._update_buttons()
            if live:
                self.statusMessage.emit(f"following {path.name} (started outside this window)")

    def _on_events(self, path: Path, events: list) -> None:
        curves = self.curves.setdefault(path, TrainingCurves())
        had_config = curves.num_events > 0
        curves.add(events)
        if not had_config and any(e.get("type") == "run_started" for e in events):
            self.runsChanged.emit()   # config.yaml now exists: the run shows up in a rescan
        if self.stream is not None and self.stream.run_dir == path and path not in self.jobs:
            finished = any(e.get("type") == "run_finished" for e in events)
            self._mark_external(path, live=not finished)
            if finished:
                self.stream.stop()
                self.runsChanged.emit()
        if path == self.runs.selected:
            self._draw(path)

    def _draw(self, path: Path) -> None:
        curves = self.curves.get(path)
        if curves is None:
            self.plots.clear("waiting for the first events…")
            return
        self.plots.update_from(curves)
        status = self.jobs[path].status if path in self.jobs and self.jobs[path].is_running() else curves.status
        finals = "  ·  ".join(f"{name}: mAP {100 * (m.get('mAP') or 0):.1f}  R1 {100 * (m.get('R1') or 0):.1f}"
                              for name, m in curves.final_metrics.items())
        self.title.setText(f"{path.name} — {status}")
        detail = finals if status == "completed" and finals else curves.progress.describe()
        if curves.errors and status == "failed":
            detail = f"error: {curves.errors[-1]}"
        self.progress_label.setText(detail)
        self.details.setText(self._details_html(path, curves))
        fraction = curves.progress.fraction_of_stage()
        done = status == "completed"
        stage_offset = 0.5 if curves.progress.stage == 2 else 0.0
        self.progress.setValue(1000 if done else int(1000 * (stage_offset + 0.5 * (fraction or 0.0))))

    @staticmethod
    def _details_html(path: Path, curves: TrainingCurves) -> str:
        rows = describe_config(curves.config, curves.device, curves.world_size)
        lines = [f"<b>{path.name}</b> <span style='color:#777'>{path}</span>"]
        lines += [f"<span style='color:#555'>{label}:</span> {value}" for label, value in rows]
        for name, metrics in curves.final_metrics.items():
            values = " · ".join(f"{k} {100 * v:.1f}" for k, v in metrics.items() if v is not None)
            lines.append(f"<span style='color:#555'>final on {name}:</span> <b>{values}</b>")
        if curves.final_metrics and curves.selection_label:
            colour = "#b35900" if "optimistic" in curves.selection_label else "#555"
            lines.append(f"<span style='color:#555'>numbers from:</span> "
                         f"<span style='color:{colour}'>{curves.selection_label}</span>")
        if curves.seconds:
            lines.append(f"<span style='color:#555'>training time:</span> {curves.seconds / 60:.1f} min")
        if not rows and not curves.final_metrics:
            lines.append("no run_started event yet")
        return "<br>".join(lines)

    # -- jobs ----------------------------------------------------------------------------------------
    def launch(self, request) -> TrainingJob:
        """Start ``scing train`` for a :class:`app.state.launch.LaunchRequest`."""
        argv = core_client.train_command(request.preset, request.run_dir, request.overrides, nproc=request.nproc)
        return self._start_job(request.run_dir, argv, method=request.preset.split("/")[1],
                               dataset=request.preset.split("/")[0])

    def resume_selected(self) -> TrainingJob | None:
        row = self.runs.selected_row
        if row is None or (row.path in self.jobs and self.jobs[row.path].is_running()):
            return None
        writer = core_client.run_writer(row.path)
        if writer is not None:   # another process trains it: a second writer would interleave its epochs
            self.errorOccurred.emit(writer)
            return None
        argv = core_client.train_command("", row.path, resume=True)
        return self._start_job(row.path, argv, method=row.method, dataset=row.dataset)

    def stop_selected(self) -> None:
        job = self.jobs.get(self.runs.selected) if self.runs.selected else None
        if job is not None and job.is_running():
            job.stop()
            self.statusMessage.emit(f"stopping {job.run_dir.name} (it checkpoints first)…")

    def _start_job(self, run_dir: Path, argv: list[str], method: str, dataset: str) -> TrainingJob:
        run_dir = Path(run_dir)
        old = self.jobs.pop(run_dir, None)
        if old is not None:
            old.deleteLater()
        job = TrainingJob(run_dir, argv, self)
        self.jobs[run_dir] = job
        self.curves[run_dir] = TrainingCurves()
        job.output.connect(lambda text, p=run_dir: self._on_output(p, text))
        job.eventsArrived.connect(lambda events, p=run_dir: self._on_events(p, events))
        job.finished.connect(lambda status, p=run_dir: self._on_job_finished(p, status))
        if self.runs.index_of(run_dir) is None:
            self.runs.set_rows(self.runs.rows + [RunRow(run_dir.name, run_dir, method, dataset, "starting")])
        self.runs.set_live_status(run_dir, "running")
        self.runs.select(run_dir)
        self.table.refresh()
        self.show_run(run_dir)
        job.start()
        self.statusMessage.emit(f"started {run_dir.name}: {' '.join(argv[2:5])} …")
        self._update_buttons()
        return job

    def _on_output(self, path: Path, text: str) -> None:
        if path == self.runs.selected:
            self.log.append_text(text)

    def _on_job_finished(self, path: Path, status: str) -> None:
        self.runs.set_live_status(path, None)
        self.runs.with_status(path, status)
        curves = self.curves.get(path)
        if curves is not None and curves.status == "running":
            curves.status = status
        self.table.refresh()
        if path == self.runs.selected:
            self._draw(path)
        self.statusMessage.emit(f"{path.name} ended: {status}")
        if status == "failed":
            job = self.jobs[path]
            tail = "".join(job.log_text).strip().splitlines()
            reason = next((line for line in reversed(tail) if line.strip() and not line.startswith("[studio]")), "")
            self._report_error(f"run {path.name} failed: {reason}" if reason else f"run {path.name} failed")
        self._update_buttons()
        self.runsChanged.emit()

    def _placeholder_row(self, path: Path) -> RunRow:
        return RunRow(path.name, path, "", "", self.jobs[path].status)

    def _update_buttons(self) -> None:
        row = self.runs.selected_row
        job = self.jobs.get(row.path) if row else None
        running_here = job is not None and job.is_running()
        followed_live = (self._external_live and self.stream is not None and row is not None
                         and self.stream.run_dir == row.path)
        self.stop_button.setEnabled(running_here)
        self.stop_button.setToolTip("SIGTERM: the run writes a checkpoint and ends 'stopped'; Resume continues it"
                                    if not followed_live else "this run was started outside this window: stop it "
                                    "there (SIGTERM / Ctrl+C also checkpoints)")
        self.resume_button.setEnabled(row is not None and not running_here and not followed_live
                                      and self.runs.status_of(row) in RESUMABLE_STATUSES)

    def _report_error(self, message: str) -> None:
        self.banner.show_error(message)
        self.errorOccurred.emit(message)

    # -- lifecycle -----------------------------------------------------------------------------------
    def running_jobs(self) -> list[TrainingJob]:
        return [job for job in self.jobs.values() if job.is_running()]

    def shutdown(self) -> None:
        """Window closing: runs keep their checkpoints; stop them and wait briefly."""
        for job in self.running_jobs():
            job.stop()
            job.process.process.waitForFinished(15000)
        if self.stream is not None:
            self.stream.stop()


def _button(text: str, tooltip: str, slot) -> QPushButton:
    button = QPushButton(text)
    button.setToolTip(tooltip)
    button.clicked.connect(slot)
    return button
