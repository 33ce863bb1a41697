"""The Retrieval panel's comparison with another run ("vs"): the other run's eval of the same test set
is loaded in a worker and its per-query AP set as the reference of the panel's ``RetrievalState``,
which fills the Δ AP column and the comparison line of the header."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QComboBox

from app.services import core_client
from app.state.retrieval import describe_comparison, describe_summary


def load_reference_ap(run_dir, dataset: str) -> tuple[list[str], object]:
    """Another run's eval of the same test set, for the comparison column: query paths and per-query AP."""
    artifacts = core_client.load_eval(run_dir, dataset)
    return list(artifacts.query.paths), artifacts.ap


class RunComparisonMixin:
    """Mixed into ``RetrievalPanel``: uses its ``state``, ``run_paths``, ``eval_combo``, ``summary``,
    ``model``, ``workers``, ``_token``, ``_reselect`` and ``_report_error``."""

    preferred_reference: Path | None = None   # compared with when the user has chosen nothing

    def _build_compare_combo(self) -> QComboBox:
        combo = QComboBox()
        combo.setMinimumWidth(140)
        combo.setToolTip("Another run evaluated on the same test set: the Δ AP column shows, per query, "
                         "where this run does better (green) or worse (red)")
        combo.currentIndexChanged.connect(self._compare_changed)
        return combo

    def prefer_comparison(self, path) -> None:
        """Compare with the run at ``path`` whenever the user has chosen nothing (now, if an eval is shown)."""
        self.preferred_reference = Path(path)
        if self.state is not None:
            self._update_compare_choices()

    def _update_compare_choices(self) -> None:
        """The other runs evaluated on the current test set; keeps the chosen one when it still qualifies."""
        run, dataset = self.current_run(), self.eval_combo.currentText()
        chosen = self.compare_combo.currentData() or (str(self.preferred_reference) if self.preferred_reference else None)
        others = [path for path in self.run_paths if path != run and dataset in core_client.eval_folders(path)]
        self.compare_combo.blockSignals(True)
        self.compare_combo.clear()
        self.compare_combo.addItem("—", None)
        for path in others:
            self.compare_combo.addItem(path.name, str(path))
        index = self.compare_combo.findData(chosen) if chosen else -1
        self.compare_combo.setCurrentIndex(max(index, 0))
        self.compare_combo.blockSignals(False)
        self._compare_changed()

    def compare_with(self, path) -> bool:
        """Compare the browsed run with the run at ``path`` (False when it is not evaluated on this test set)."""
        index = self.compare_combo.findData(str(path))
        if index >= 0:
            self.compare_combo.setCurrentIndex(index)
        return index >= 0

    def _compare_changed(self, *_) -> None:
        if self.state is None:
            return
        reference, dataset = self.compare_combo.currentData(), self.eval_combo.currentText()
        if not reference:
            self.state.clear_reference()
            self._comparison_loaded(self._token, None)
            return
        token = self._token
        self.workers.start(load_reference_ap, Path(reference), dataset,
                           on_result=lambda loaded: self._comparison_loaded(token, (Path(reference).name, *loaded)),
                           on_error=self._report_error)

    def _comparison_loaded(self, token: int, loaded) -> None:
        if token != self._token or self.state is None:
            return
        if loaded is not None:
            try:
                self.state.set_reference(*loaded)
            except ValueError as error:
                self._report_error(str(error))
        self._describe()
        self.model.refresh()
        self._reselect()

    def _describe(self) -> None:
        text = describe_summary(self.state.summary())
        comparison = describe_comparison(self.state.reference_summary()) if self.state.reference_name else ""
        self.summary.setText(f"{text}<br>{comparison}" if comparison else text)
