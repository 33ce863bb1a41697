"""The page shown instead of the panels when there is no workspace to show: the demo workspace is
not built yet, or a folder given with ``--workspace`` does not exist. It says so and offers to build
the demo (``scing demo`` in a QProcess, output live), to create an empty workspace, or to open
another folder — never a blank window."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.services import core_client
from app.services.training_process import CommandProcess
from app.state.workspace import MISSING, WorkspaceStatus
from app.widgets.log_view import LogView


class WorkspacePanel(QWidget):
    openRequested = Signal()              # File ▸ Open workspace…
    workspaceReady = Signal(object)       # the folder now holds a workspace (built or created)
    errorOccurred = Signal(str)
    statusMessage = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.status: WorkspaceStatus | None = None
        self.process: CommandProcess | None = None
        self.headline = QLabel()
        self.headline.setStyleSheet("font-size: 16pt; font-weight: bold;")
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setStyleSheet("font-size: 11pt;")
        self.build_button = QPushButton("Build demo workspace")
        self.build_button.setDefault(True)
        self.build_button.clicked.connect(self.build_demo)
        self.quick = QCheckBox("Quick (~1 min, rough numbers)")
        self.quick.setToolTip("Unticked: the full demo, about 4 minutes on a 2-core CPU, the one docs/demo-report.md "
                              "describes. A workspace keeps the mode it was built with.")
        self.quick.setChecked(False)
        self.create_button = QPushButton("Create empty workspace")
        self.create_button.clicked.connect(self._create_empty)
        self.open_button = QPushButton("Open another workspace…")
        self.open_button.clicked.connect(self.openRequested)
        self.stop_button = QPushButton("Stop build")
        self.stop_button.clicked.connect(self._stop)
        self.stop_button.hide()
        self.contents = QLabel(
            "<b>What the demo workspace holds</b><ul>"
            "<li>SynthPed and SynthPed-Occluded: procedural pedestrians in the Market-1501 layout, with person masks"
            " and captions</li>"
            "<li>SynthCLIP: a small CLIP pre-trained on SynthPed captions (the offline stand-in for OpenAI CLIP)</li>"
            "<li>three runs — CLIP-ReID, CoCoOp and SCING — both stages, evaluated on the holistic and occluded"
            " test splits</li>"
            "<li>the analysis figures (saliency, modality gap, robustness) and report.md</li></ul>"
            "Everything runs on this CPU; nothing is downloaded.")
        self.contents.setWordWrap(True)
        self.log = LogView(placeholder="The output of `scing demo` appears here while it builds.")
        buttons = QHBoxLayout()
        for widget in (self.build_button, self.quick, self.create_button, self.open_button, self.stop_button):
            buttons.addWidget(widget)
        buttons.addStretch(1)
        column = QVBoxLayout(self)
        column.setContentsMargins(40, 30, 40, 20)
        column.addWidget(self.headline)
        column.addWidget(self.text)
        column.addSpacing(8)
        column.addLayout(buttons)
        column.addSpacing(8)
        column.addWidget(self.contents)
        column.addWidget(self.log, 1)

    def show_status(self, status: WorkspaceStatus) -> None:
        self.status = status
        self.headline.setText(status.headline())
        self.text.setText(status.explanation())
        self.create_button.setVisible(status.kind == MISSING)
        for widget in (self.build_button, self.quick, self.contents, self.log):
            widget.setVisible(status.can_build_demo)
        self._set_building(self.process is not None and self.process.is_running())

    def build_demo(self) -> CommandProcess | None:
        if self.status is None or (self.process is not None and self.process.is_running()):
            return None
        argv = core_client.demo_command(self.status.path, quick=self.quick.isChecked())
        self.log.set_text("")
        self.process = CommandProcess(argv, self)
        self.process.output.connect(self.log.append_text)
        self.process.finished.connect(self._built)
        self.process.failedToStart.connect(self.errorOccurred)
        self._set_building(True)
        self.process.start()
        self.statusMessage.emit(f"building the demo workspace in {self.status.path}…")
        return self.process

    def _built(self, exit_code: int) -> None:
        self._set_building(False)
        if exit_code == 0:
            self.statusMessage.emit("demo workspace ready")
            self.workspaceReady.emit(self.status.path)
        elif not (self.process and self.process.stop_requested):
            tail = [line for line in self.log.toPlainText().splitlines() if line.strip() and "[studio]" not in line]
            self.errorOccurred.emit(f"the demo build failed: {tail[-1] if tail else f'exit code {exit_code}'}")

    def _stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def _create_empty(self) -> None:
        if self.status is None:
            return
        try:
            (Path(self.status.path) / "runs").mkdir(parents=True, exist_ok=True)
        except OSError as error:
            self.errorOccurred.emit(f"cannot create {self.status.path}: {error.strerror}; choose another folder")
            return
        self.workspaceReady.emit(self.status.path)

    def _set_building(self, building: bool) -> None:
        self.build_button.setEnabled(not building)
        self.quick.setEnabled(not building)
        self.stop_button.setVisible(building)

    def shutdown(self) -> None:
        if self.process is not None and self.process.is_running():
            self.process.stop()
            self.process.process.waitForFinished(10000)
