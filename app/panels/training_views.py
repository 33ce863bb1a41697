"""The Training panel's TensorBoard-style views beside its curves: the run filter (a regular expression
above the run table), the "Hyper-parameters" table and "Export series…".

A mixin of :class:`app.panels.training_panel.TrainingPanel` (it holds ``runs``, ``plots``, ``controls``,
``workers`` and the banner). The runs' configs are read in a worker (``core_client.read_run_configs``),
once per run; the table is rebuilt from :func:`app.state.hparams.hparams_table` when the runs listed, the
filter or the configs read change — off the hot path: on a later event-loop turn (a scan, a selection or a
launch draws first), only while the table is on screen (else when it is shown), and not at all when the
table would come out the same (a rescan of unchanged runs).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QFileDialog, QLabel, QLineEdit

from app.services import core_client
from app.state.hparams import hparams_table
from app.state.series_export import export_series
from app.widgets.hparams_table import HparamsTableWidget
from app.widgets.layout import hbox, vbox, widget_of
from app.widgets.training_labels import never_widen

HPARAMS_DELAY_MS = 50   # the table is rebuilt this long after its inputs change (several changes: once)
FILTER_HINT = "filter runs (regular expression)"
EXPORT_FILTER = "CSV (*.csv);;JSON (*.json)"


class TrainingViewsMixin:
    """Run filter, hyper-parameter table and series export of the Training panel."""

    def _build_filter(self):
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText(FILTER_HINT)
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setToolTip("Show and overlay only the runs whose names match (e.g. gate_on|seed[01])")
        self.filter_edit.textChanged.connect(self.set_run_filter)
        self.filter_error = never_widen(QLabel())
        self.filter_error.setStyleSheet("color: #B3261E;")
        self.filter_error.hide()
        return vbox(hbox(QLabel("filter:"), (self.filter_edit, 1)), self.filter_error)

    def _build_hparams(self):
        self.configs: dict[Path, dict] = {}
        self._configs_asked: set[Path] = set()
        self.hparams = HparamsTableWidget()
        self.hparams.runClicked.connect(self.select_run)
        self._hparams_stale = True   # its inputs changed since it was last drawn
        self._hparams_drawn = None   # the HparamsTable drawn last
        self._hparams_timer = QTimer(self.hparams, singleShot=True, interval=HPARAMS_DELAY_MS)
        self._hparams_timer.timeout.connect(self._draw_hparams)
        self.hparams.shown.connect(self._draw_hparams_soon)   # changed while hidden: drawn once shown
        self.hparams_hint = QLabel("<span style='color:#777'>Runs listed (after the filter): the config keys that "
                                   "differ between them, then the final mAP / R1 · click a header to sort, a row "
                                   "to select the run</span>")
        self.hparams_hint.setWordWrap(True)
        never_widen(self.hparams_hint)
        self.controls.exportRequested.connect(self._export_clicked)
        self.runs.rows_changed.connect(self._refresh_hparams)
        self.runs.selection_changed.connect(lambda path: self.hparams.show_selected(path))
        return widget_of(vbox(self.hparams_hint, (self.hparams, 1)))

    # -- run filter ----------------------------------------------------------------------------------------
    def set_run_filter(self, text: str) -> None:
        """Hide (and stop drawing) the runs whose names do not match ``text``; a bad pattern filters nothing
        and says why in red under the field."""
        if self.filter_edit.text() != text:
            self.filter_edit.setText(text)   # comes back here through textChanged
            return
        run_filter = self.runs.set_filter(text)
        self.filter_error.setText(run_filter.error)
        self.filter_error.setVisible(bool(run_filter.error))

    # -- hyper-parameters ----------------------------------------------------------------------------------
    def _refresh_hparams(self) -> None:
        wanted = [row.path for row in self.runs.rows if not row.damaged and row.path not in self._configs_asked]
        if wanted:
            self._configs_asked.update(wanted)
            self.workers.start(core_client.read_run_configs, wanted,
                               on_result=lambda configs, paths=wanted: self._configs_read(paths, configs),
                               on_error=lambda message, paths=wanted: self._configs_failed(paths, message))
        self._hparams_stale = True
        self._draw_hparams_soon()

    def _configs_read(self, paths, configs: dict) -> None:
        self.configs.update(configs)
        self._configs_asked.difference_update(set(paths) - set(configs))   # no config.yaml yet: ask again later
        self._hparams_stale = True
        self._draw_hparams_soon()

    def _draw_hparams_soon(self) -> None:
        if self._hparams_stale and not self._hparams_timer.isActive():
            self._hparams_timer.start()

    def _draw_hparams(self) -> None:
        """Rebuild the table from the runs listed and their configs, if it is on screen and would change."""
        if not self._hparams_stale or not self.hparams.isVisible():
            return   # hidden: drawn when shown (HparamsTableWidget.shown)
        self._hparams_stale = False
        table = hparams_table(self.runs.shown_rows(), self.configs)
        if table != self._hparams_drawn:
            self._hparams_drawn = table
            self.hparams.set_table(table, self.runs.selected)
        else:
            self.hparams.show_selected(self.runs.selected)

    def _configs_failed(self, paths, message: str) -> None:
        self._configs_asked.difference_update(paths)   # asked again on the next scan
        self._report_error(f"could not read the runs' configs for the hyper-parameter table: {message}")

    # -- export ------------------------------------------------------------------------------------------
    def _export_clicked(self) -> None:
        start = str((self.workspace or Path.home()) / f"training-series-{self.controls.options().x_axis}.csv")
        path, _ = QFileDialog.getSaveFileName(self, "Export the series shown", start, EXPORT_FILTER)
        if path:
            self.export_series(path)

    def export_series(self, path) -> Path | None:
        """Write every series drawn now (run, plot, series, x-axis kind, x, y) to ``path`` (.csv or .json),
        atomically; a problem is one line in the banner."""
        try:
            written = export_series(self.plots.lines, self.controls.options().x_axis, path)
        except (OSError, ValueError) as error:
            self._report_error(f"could not export the series: {error}")
            return None
        self.statusMessage.emit(f"exported the series shown to {written}")
        return written
