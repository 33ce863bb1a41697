"""Where runs train, as the launch forms show it (Training ▸ New run, Study ▸ Start a study), without Qt.

A form starts from its workspace's saved launcher (``api.launcher_settings``: ``WORKSPACE/launcher.json``)
and writes what the user submitted back (``api.save_launcher_settings``), so both forms, and the next
session, start from the last choice. Another workspace resets the values to that workspace's; a rescan
of the same workspace keeps what the user typed (:class:`LauncherDefaults`).

The kinds are the core's: ``inline`` (this process, one run after another: a study's default; for a
training run, ``scing train`` as a child process of the studio), ``local`` (this machine, ``parallel``
runs at once) and ``slurm`` (jobs on a Slurm cluster: submitted, the submitting process returns).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

INLINE, LOCAL, SLURM = "inline", "local", "slurm"
# (kind, label) offered by each form
TRAINING_TARGETS = ((INLINE, "This machine"), (SLURM, "Slurm cluster"))
STUDY_TARGETS = ((INLINE, "This process, one run after another"), (LOCAL, "This machine, several runs at once"),
                 (SLURM, "Slurm cluster (a job array)"))
FIELDS = ("kind", "parallel", "partition", "gpus_per_run", "cpus_per_run", "time_min")


@dataclass(frozen=True)
class LauncherValues:
    """What a launch form shows (a subset of ``api.LauncherSettings``; the rest stays as saved)."""

    kind: str = INLINE
    parallel: int = 1
    partition: str = ""
    gpus_per_run: int = 1
    cpus_per_run: int = 8
    time_min: int = 24 * 60

    @classmethod
    def of(cls, settings) -> "LauncherValues":
        """The values of an ``api.LauncherSettings`` (anything with the same attributes)."""
        return cls(**{name: getattr(settings, name) for name in FIELDS})

    def changes(self) -> dict:
        """Keyword arguments for ``LauncherSettings.replace`` (which checks them)."""
        return dataclasses.asdict(self)

    @property
    def uses_slurm(self) -> bool:
        return self.kind == SLURM

    def offered(self, targets) -> "LauncherValues":
        """The same values with a kind the form offers (``targets``: ``(kind, label)`` pairs): a saved
        ``local`` shows as this machine in Training ▸ New run."""
        kinds = [kind for kind, _ in targets]
        return self if self.kind in kinds else dataclasses.replace(self, kind=INLINE if INLINE in kinds else kinds[0])

    def describe(self) -> str:
        """One line for a status message: 'Slurm (partition gpu, 1 GPU, 8 CPUs, 60 min)'."""
        if self.kind == INLINE:
            return "this machine"
        if self.kind == LOCAL:
            return f"this machine, {self.parallel} at once"
        partition = f"partition {self.partition}" if self.partition else "default partition"
        gpus = f"{self.gpus_per_run} GPU" + ("" if self.gpus_per_run == 1 else "s")
        return f"Slurm ({partition}, {gpus}, {self.cpus_per_run} CPUs, {self.time_min} min)"


def kind_to_save(saved_kind: str, chosen: str) -> str:
    """The kind saved after a launch: the one chosen; a training run on this machine keeps a saved
    ``local`` (a study's several-at-once choice is this machine too)."""
    if chosen == INLINE and saved_kind == LOCAL:
        return LOCAL
    return chosen


class LauncherDefaults:
    """The launcher values a form shows, following its workspace."""

    def __init__(self) -> None:
        self.workspace: Path | None = None

    def values_for(self, workspace, saved) -> LauncherValues | None:
        """The saved values of ``workspace`` (``saved``: its ``api.LauncherSettings``) when it is another
        workspace than the form's; None for the same one (a rescan keeps what the user typed)."""
        workspace = Path(workspace)
        if workspace == self.workspace:
            return None
        self.workspace = workspace
        return LauncherValues.of(saved)
