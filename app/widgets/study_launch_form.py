"""The Study panel's "Start a study" form: a plan (a shipped ``study/NAME`` or a plan YAML file), the seeds
and where the runs train (this process one after another, this machine several at once, or a Slurm
cluster). The launcher values start from the workspace's saved launcher and follow a switch of
workspace; what the user starts with is saved back."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton,
                               QSpinBox, QToolButton, QWidget)

from app.services import core_client
from app.state.launcher import STUDY_TARGETS, LauncherDefaults
from app.state.study_live import build_study_request, plan_label, start_label
from app.widgets.launcher_fields import LauncherFields

DEFAULT_PLAN = "study/table3-synthped"


class StudyLaunchForm(QGroupBox):
    """Emits ``startRequested(StudyRequest)`` when the form is valid, ``invalid(message)`` otherwise."""

    startRequested = Signal(object)
    invalid = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__("Start a study", parent)
        self.workspace: Path | None = None
        self.studies: tuple[Path, ...] = ()
        self.plan = QComboBox()
        self.plan.setToolTip("A shipped plan (study/NAME) or a plan YAML file (docs/studies.md)")
        self.plan.setMinimumContentsLength(18)
        self.plan.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        for name in core_client.list_plans():
            self.plan.addItem(plan_label(name), name)
        self.plan.setCurrentIndex(max(0, self.plan.findData(DEFAULT_PLAN)))   # the one a CPU trains in minutes
        browse = QToolButton()
        browse.setText("…")
        browse.setToolTip("Choose a plan YAML file")
        browse.clicked.connect(self._browse_plan)
        self.seeds = QSpinBox()
        self.seeds.setRange(0, 100)
        self.seeds.setSpecialValueText("plan's")
        self.seeds.setMinimumWidth(self.seeds.fontMetrics().horizontalAdvance("plan's") + 40)
        self.seeds.setToolTip("Seeds 0..N-1 of every row (plan's: as the plan says); more seeds on a study that "
                              "exists train only the new ones")
        self.launcher = LauncherFields(STUDY_TARGETS, with_parallel=True)
        self.launcher_defaults = LauncherDefaults()
        self.start_button = QPushButton("Start study")
        self.start_button.clicked.connect(self.submit)
        plan_row = QHBoxLayout()
        plan_row.addWidget(self.plan, 1)
        plan_row.addWidget(browse)
        plan_row.addSpacing(12)
        plan_row.addWidget(QLabel("Seeds"))
        plan_row.addWidget(self.seeds)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(self.start_button)
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Plan", _wrap(plan_row))
        form.addRow("Run on", self.launcher)
        form.addRow(_wrap(bottom))
        self.plan.currentIndexChanged.connect(self._refresh_label)

    def set_workspace(self, workspace, studies) -> None:
        """A scan of ``workspace`` (its study folders ``studies``); another workspace shows its saved launcher."""
        self.workspace, self.studies = Path(workspace), tuple(Path(s) for s in studies)
        values = self.launcher_defaults.values_for(self.workspace, core_client.launcher_settings(self.workspace))
        if values is not None:
            self.launcher.set_values(values.offered(STUDY_TARGETS))
        self._refresh_label()

    def set_plan(self, plan: str) -> None:
        """Choose ``plan`` (a shipped name or a file), adding a file to the list."""
        index = self.plan.findData(plan)
        if index < 0:
            self.plan.addItem(plan_label(plan), plan)
            index = self.plan.count() - 1
            self.plan.setItemData(index, plan, Qt.ItemDataRole.ToolTipRole)
        self.plan.setCurrentIndex(index)

    def _browse_plan(self) -> None:
        start = str(self.workspace or Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Study plan", start, "Study plans (*.yaml *.yml)")
        if path:
            self.set_plan(path)

    def _refresh_label(self, *_) -> None:
        self.start_button.setText(start_label(self.workspace, self.plan.currentData() or "", self.studies))

    def submit(self) -> None:
        if self.workspace is None:
            self.invalid.emit("open a workspace first (File ▸ Open workspace…)")
            return
        plan = self.plan.currentData() or ""
        values, saved = self.launcher.values(), core_client.launcher_settings(self.workspace)
        try:
            launcher = core_client.launcher_with(saved, values)
            request = build_study_request(self.workspace, plan, self.seeds.value(), self.studies, launcher,
                                          plan_exists=Path(plan).expanduser().is_file())
        except ValueError as error:
            self.invalid.emit(str(error))
            return
        if launcher != saved:
            try:
                core_client.save_launcher_settings(self.workspace, launcher)
            except (OSError, ValueError) as error:
                self.invalid.emit(f"could not save the launcher settings: {error}")
        self.startRequested.emit(request)


def _wrap(layout) -> QWidget:
    widget = QWidget()
    layout.setContentsMargins(0, 0, 0, 0)
    widget.setLayout(layout)
    return widget
