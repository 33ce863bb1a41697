"""The "New run" form: preset (dataset / method / variant), run name, data root, overrides, where it trains
(this machine, or a Slurm cluster with its partition, GPUs, CPUs and time limit) and processes.

Every default follows the open workspace (:mod:`app.state.launch`): a free run name, the workspace's own
data folder for the chosen dataset (or none: the preset's ``data.root``), and the workspace's saved
launcher (``api.launcher_settings``). A switch of workspace resets the whole form to those defaults; a
rescan of the same workspace keeps what the user typed. What the user submits as launcher is saved back
(``api.save_launcher_settings``)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QComboBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLineEdit,
                               QPushButton, QSpinBox, QToolButton, QWidget)

from app.services import core_client
from app.state.launch import (FORM_DEFAULTS, PresetChoices, build_launch_request, default_data_root,
                              suggest_run_name)
from app.state.launcher import TRAINING_TARGETS, LauncherDefaults, kind_to_save
from app.widgets.launcher_fields import LauncherFields

VARIANT_LABELS = {"": "(paper setting)"}


class NewRunForm(QGroupBox):
    """Emits ``launchRequested(LaunchRequest)`` when the form is valid, ``invalid(message)`` otherwise."""

    launchRequested = Signal(object)
    invalid = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__("New run", parent)
        self.workspace: Path | None = None
        self.existing_names: set[str] = set()
        self.dataset = QComboBox()
        self.method = QComboBox()
        self.variant = QComboBox()
        self.name = QLineEdit()
        self.name.setPlaceholderText("folder name under runs/")
        self.data_root = QLineEdit()
        self.data_root.setPlaceholderText("dataset folder or its parent (default: the preset's data.root)")
        browse = QToolButton()
        browse.setText("…")
        browse.setToolTip("Choose the dataset folder")
        browse.clicked.connect(self._browse_data_root)
        self.overrides = QLineEdit()
        self.overrides.setPlaceholderText("key=value …  e.g. stage1.epochs=10 model.stride=12")
        self.launcher = LauncherFields(TRAINING_TARGETS)
        self.launcher_defaults = LauncherDefaults()
        self.nproc = QSpinBox()
        self.nproc.setRange(1, 16)
        self.nproc.setToolTip("Processes for distributed training (one per GPU; gloo on CPU)")
        self.start_button = QPushButton("Start training")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self.submit)
        self.launcher.changed.connect(self._launcher_changed)

        preset_row = QHBoxLayout()
        for combo in (self.dataset, self.method, self.variant):
            preset_row.addWidget(combo, 1)
        root_row = QHBoxLayout()
        root_row.addWidget(self.data_root, 1)
        root_row.addWidget(browse)
        bottom = QHBoxLayout()
        bottom.addWidget(self.nproc)
        bottom.addStretch(1)
        bottom.addWidget(self.start_button)
        form = QFormLayout(self)
        form.addRow("Preset", _wrap(preset_row))
        form.addRow("Run name", self.name)
        form.addRow("Data root", _wrap(root_row))
        form.addRow("Overrides", self.overrides)
        form.addRow("Train on", self.launcher)
        form.addRow("Processes", _wrap(bottom))
        self.method.currentTextChanged.connect(self._refresh_name)
        self.variant.currentIndexChanged.connect(self._refresh_name)
        self.dataset.currentTextChanged.connect(self._refresh_data_root)
        self._auto_name = ""        # the name and data root the form suggested: replaced when they change,
        self._auto_data_root = ""   # while the user has not typed over them
        self._launcher_changed()

    def set_presets(self, presets: list[str]) -> None:
        choices = PresetChoices.from_presets(presets)
        self.dataset.clear()
        self.dataset.addItems(choices.datasets)
        self.method.clear()
        self.method.addItems(choices.methods)
        self.variant.clear()
        for variant in choices.variants:
            self.variant.addItem(VARIANT_LABELS.get(variant, variant), variant)
        self._choose_default_preset()

    def set_workspace(self, workspace, existing_names) -> None:
        """A scan of ``workspace``. Another workspace than before resets the form to its defaults: the
        preferred preset, a free run name, its own data folder (or none), no overrides, one process and
        its saved launcher. A rescan keeps what the user typed and refreshes only what the form suggested."""
        switched = Path(workspace) != self.workspace
        self.workspace = Path(workspace)
        self.existing_names = set(existing_names)
        if switched:
            self._reset()
        values = self.launcher_defaults.values_for(self.workspace, core_client.launcher_settings(self.workspace))
        if values is not None:
            self.launcher.set_values(values.offered(TRAINING_TARGETS))
        self._refresh_data_root()
        self._refresh_name()

    def _reset(self) -> None:
        """Nothing typed for another workspace stays: a data root, overrides or a name may point into it."""
        self.name.clear()
        self.data_root.clear()
        self.overrides.setText(FORM_DEFAULTS.overrides)
        self.nproc.setValue(FORM_DEFAULTS.nproc)
        self._choose_default_preset()

    def _choose_default_preset(self) -> None:
        for combo, preferred in ((self.dataset, FORM_DEFAULTS.dataset), (self.method, FORM_DEFAULTS.method)):
            index = combo.findText(preferred)
            combo.setCurrentIndex(max(index, 0))
        self.variant.setCurrentIndex(max(self.variant.findData(FORM_DEFAULTS.variant), 0))
        self._refresh_data_root()
        self._refresh_name()

    def _refresh_data_root(self, *_) -> None:
        """The workspace's data folder of the chosen dataset, unless the user typed another root."""
        suggestion = default_data_root(self.workspace, self.dataset.currentText())
        if not self.data_root.text() or self.data_root.text() == self._auto_data_root:
            self.data_root.setText(suggestion)
        self._auto_data_root = suggestion

    def _launcher_changed(self) -> None:
        slurm = self.launcher.values().uses_slurm
        self.nproc.setEnabled(not slurm)
        self.nproc.setToolTip("Slurm: one process per GPU (GPUs per run)" if slurm
                              else "Processes for distributed training (one per GPU; gloo on CPU)")
        self.start_button.setText("Submit to Slurm" if slurm else "Start training")

    def _refresh_name(self, *_) -> None:
        suggestion = suggest_run_name(self.method.currentText(), self.variant.currentData() or "", self.existing_names)
        if not self.name.text() or self.name.text() == self._auto_name:
            self.name.setText(suggestion)
        self._auto_name = suggestion

    def _browse_data_root(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Dataset folder", self.data_root.text() or str(Path.home()))
        if folder:
            self.data_root.setText(folder)

    def submit(self) -> None:
        if self.workspace is None:
            self.invalid.emit("open a workspace first (File ▸ Open workspace…)")
            return
        values, saved = self.launcher.values(), core_client.launcher_settings(self.workspace)
        try:
            request = build_launch_request(self.workspace, self.dataset.currentText(), self.method.currentText(),
                                           self.variant.currentData() or "", self.name.text(), self.data_root.text(),
                                           self.overrides.text(), 1 if values.uses_slurm else self.nproc.value())
            added = core_client.launch_overrides(self.workspace, request.preset, request.overrides)
            launcher = core_client.launcher_with(saved, values) if values.uses_slurm else None
            to_save = core_client.launcher_with(saved, dataclasses.replace(values, kind=kind_to_save(saved.kind,
                                                                                                     values.kind)))
        except ValueError as error:   # the message says what to fix
            self.invalid.emit(str(error))
            return
        if to_save != saved:
            try:
                core_client.save_launcher_settings(self.workspace, to_save)
            except (OSError, ValueError) as error:   # the run still starts; next time the form starts from before
                self.invalid.emit(f"could not save the launcher settings: {error}")
        request = dataclasses.replace(request, overrides=(*request.overrides, *added), launcher=launcher)
        self.existing_names.add(request.run_dir.name)
        self.launchRequested.emit(request)
        self._refresh_name()


def _wrap(layout) -> QWidget:
    widget = QWidget()
    layout.setContentsMargins(0, 0, 0, 0)
    widget.setLayout(layout)
    return widget
