"""The Study panel's live side: the page that shows a study without statistics yet (its runs' states,
Collect, Stop) and the one child process the panel runs at a time (``scing study`` or the collect step).

:class:`StudyRunsPage` draws an :class:`app.state.study_live.LiveStudy`: a summary line, the study's
progress and a table of run, state, job id, node, epoch reached and last error. :class:`StudyProcess`
runs ``scing study`` (or ``scing study --status DIR --collect``) as a child process
(:class:`app.services.training_process.CommandProcess`: its output streams to the panel's log, Stop is
SIGTERM — the study stops after the current training step, with a checkpoint) and says how it ended.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QWidget

from app.services.training_process import CommandProcess
from app.state.training import failure_message
from app.widgets.layout import STRETCH, hbox, vbox
from app.widgets.study_runs_table import StudyRunsTable
from app.widgets.training_labels import never_widen

STUDY, COLLECT = "study", "collect"
STOPPED_EXIT = 130   # scing study stopped early (Ctrl-C / SIGTERM)


class StudyRunsPage(QWidget):
    """``collectRequested()``, ``stopRequested()``, ``runOpened(name)`` (a run double-clicked)."""

    collectRequested = Signal()
    stopRequested = Signal()
    runOpened = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.summary = never_widen(QLabel())
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setFixedHeight(8)
        self.table = StudyRunsTable()
        self.table.cellDoubleClicked.connect(lambda row, _: self._open(row))
        self.collect_button = QPushButton("Collect")
        self.collect_button.setToolTip("Every run is done: compute the study's statistics (scing study --status DIR "
                                       "--collect writes study.json and study.md)")
        self.collect_button.clicked.connect(self.collectRequested)
        self.stop_button = QPushButton("Stop study")
        self.stop_button.setToolTip("SIGTERM to the scing study process this window started: it stops after the "
                                    "current training step, with a checkpoint; Continue study resumes it")
        self.stop_button.clicked.connect(self.stopRequested)
        self.hint = QLabel("<span style='color:#777'>double-click a run to follow it in the Training tab</span>")
        self.setLayout(vbox(hbox((self.summary, 1), self.stop_button, self.collect_button), self.progress,
                            (self.table, 1), hbox(self.hint, STRETCH)))
        self.draw_controls(can_collect=False, study_running=False, busy=False)

    def show_live(self, live) -> None:
        self.summary.setText(live.summary())
        self.progress.setValue(live.progress())
        self.table.show_runs(live.runs)

    def draw_controls(self, can_collect: bool, study_running: bool, busy: bool) -> None:
        """Collect once every run is done (and no process of this panel runs); Stop while its study runs."""
        self.collect_button.setVisible(can_collect)
        self.collect_button.setEnabled(can_collect and not busy)
        self.stop_button.setVisible(study_running)

    def _open(self, row: int) -> None:
        name = self.table.run_name(row)
        if name:
            self.runOpened.emit(name)


class StudyProcess(QObject):
    """One child process of the Study panel at a time: ``output(text)``; ``ended(kind, folder, code, line)``
    with the exit code and the last line it printed (the reason, when it failed)."""

    output = Signal(str)
    ended = Signal(str, object, int, str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.process: CommandProcess | None = None
        self.kind = ""
        self.folder: Path | None = None
        self._log: deque[str] = deque(maxlen=200)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.is_running()

    @property
    def study_running(self) -> bool:
        return self.running and self.kind == STUDY

    def start(self, argv: list[str], kind: str, folder: Path) -> None:
        if self.running:
            raise RuntimeError(f"a {self.kind} process runs already")
        if self.process is not None:
            self.process.deleteLater()
        self.kind, self.folder = kind, Path(folder)
        self._log.clear()
        self.process = CommandProcess(argv, self)
        self.process.output.connect(self._on_output)
        self.process.finished.connect(self._on_finished)
        self.process.failedToStart.connect(lambda message: self._on_finished(-1))
        self.process.start()

    def stop(self) -> None:
        if self.running:
            self.process.stop()

    def wait(self, msecs: int) -> None:
        if self.running:
            self.process.process.waitForFinished(msecs)

    def _on_output(self, text: str) -> None:
        self._log.append(text)
        self.output.emit(text)

    def _on_finished(self, code: int) -> None:
        reason = failure_message("", self._log).partition(": ")[2]
        self.ended.emit(self.kind, self.folder, code, reason)
