"""Where runs train, as form fields (Training ▸ New run, Study ▸ Start a study): a choice of launcher and,
for a Slurm cluster, the partition, GPUs and CPUs per run and the time limit; for several runs at once
(this machine's processes, a Slurm job array) how many. Draws and reads
:class:`app.state.launcher.LauncherValues`; the forms decide what to do with them."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QGridLayout, QHBoxLayout, QLabel, QLineEdit, QSpinBox, QWidget

from app.state.launcher import LOCAL, SLURM, LauncherValues

MAX_TIME_MIN = 14 * 24 * 60


class LauncherFields(QWidget):
    """``target`` (the launcher combo), ``parallel`` (runs at once, when the form offers it) and the Slurm
    fields, shown only when Slurm is chosen. ``changed()`` when the launcher chosen changes."""

    changed = Signal()

    def __init__(self, targets, with_parallel: bool = False, parent=None) -> None:
        super().__init__(parent)
        self.with_parallel = with_parallel
        self._kept = LauncherValues()   # values the form does not show are kept as they were set
        self.target = QComboBox()
        for kind, label in targets:
            self.target.addItem(label, kind)
        self.target.setToolTip("Where the runs train (saved in the workspace's launcher.json for next time)")
        self.parallel = _spin(1, 256, "Runs that train at the same time (this machine's processes, or the "
                                      "job array's %N on Slurm)")
        self.parallel_label = QLabel("at once")
        self.partition = QLineEdit()
        self.partition.setPlaceholderText("cluster default")
        self.partition.setToolTip("Slurm partition (sbatch --partition); empty: the cluster's default")
        self.gpus = _spin(0, 64, "GPUs per run on its node (one task per GPU; sbatch --gpus-per-node)")
        self.cpus = _spin(1, 512, "CPUs per task (sbatch --cpus-per-task)")
        self.time = _spin(1, MAX_TIME_MIN, "Time limit of each job in minutes (sbatch --time); the run "
                                           "checkpoints 90 s before it and is requeued")
        self.time.setSuffix(" min")
        self.time.setSingleStep(30)

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.target, 1)
        top.addWidget(self.parallel)
        top.addSpacing(2)
        top.addWidget(self.parallel_label)
        self.slurm = QWidget()
        grid = QGridLayout(self.slurm)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(6)
        for column, (label, field) in enumerate((("Partition", self.partition), ("Time limit", self.time))):
            grid.addWidget(QLabel(label), 0, 2 * column)
            grid.addWidget(field, 0, 2 * column + 1)
        for column, (label, field) in enumerate((("GPUs per run", self.gpus), ("CPUs per run", self.cpus))):
            grid.addWidget(QLabel(label), 1, 2 * column)
            grid.addWidget(field, 1, 2 * column + 1)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        outer = QGridLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setVerticalSpacing(4)
        outer.addLayout(top, 0, 0)
        outer.addWidget(self.slurm, 1, 0)
        self.target.currentIndexChanged.connect(self._kind_changed)
        self._kind_changed()

    @property
    def kind(self) -> str:
        return self.target.currentData() or ""

    def set_kind(self, kind: str) -> None:
        index = self.target.findData(kind)
        if index >= 0:
            self.target.setCurrentIndex(index)

    def set_values(self, values: LauncherValues) -> None:
        self._kept = values
        self.set_kind(values.kind)
        self.parallel.setValue(values.parallel)
        self.partition.setText(values.partition)
        self.gpus.setValue(values.gpus_per_run)
        self.cpus.setValue(values.cpus_per_run)
        self.time.setValue(values.time_min)

    def values(self) -> LauncherValues:
        return LauncherValues(self.kind, self.parallel.value() if self.with_parallel else self._kept.parallel,
                              self.partition.text().strip(), self.gpus.value(), self.cpus.value(), self.time.value())

    def _kind_changed(self, *_) -> None:
        self.slurm.setVisible(self.kind == SLURM)
        several = self.with_parallel and self.kind in (LOCAL, SLURM)
        self.parallel.setVisible(several)
        self.parallel_label.setVisible(several)
        self.changed.emit()


def _spin(low: int, high: int, tooltip: str) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setToolTip(tooltip)
    return spin
