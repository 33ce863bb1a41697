"""The Retrieval panel's comparison with another run ("vs"): the other run's eval of the same test set
is loaded in a worker and set as the reference of the panel's ``RetrievalState``. That fills the
Δ AP column, the comparison line of the header, and the side-by-side strip: the other run's ranked
gallery for the same query right under this run's, tile for tile (same size, same columns, scrolled
together), so what one run fixed or broke for a query reads column by column. A comparison that cannot
be shown (the other eval unreadable, or of other queries) is reported and "vs" goes back to "—"."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QComboBox, QLabel, QWidget

from app.panels.retrieval_loading import LoadFailure, comparable_runs, load_retrieval_state
from app.state.retrieval_side_by_side import describe_versus, side_by_side
from app.widgets.layout import vbox, widget_of


class RunComparisonMixin:
    """Mixed into ``RetrievalPanel``: uses its ``state``, ``run_paths``, ``eval_combo``, ``workers``,
    ``strip``, ``_token``, ``_new_strip``, ``_hit_specs`` and ``_report_error``. It only writes the
    compared run to the eval shown (``RetrievalState.set_reference_state`` / ``clear_reference``); the
    Δ AP column, the header, the filters and the strips follow ``reference_changed``."""

    preferred_reference: Path | None = None   # compared with when the user has chosen nothing
    _comparable: list[Path] | None = None     # the other runs evaluated on the test set of the eval shown
    _compare_token = 0

    def _build_compare_combo(self) -> QComboBox:
        combo = QComboBox()
        combo.setMinimumWidth(140)
        combo.setToolTip("Another run evaluated on the same test set: the Δ AP column shows, per query, "
                         "where this run does better (green) or worse (red), and its ranked gallery for the "
                         "selected query appears under this run's")
        combo.currentIndexChanged.connect(self._compare_changed)
        return combo

    def _build_versus(self) -> QWidget:
        self.versus_title = QLabel("")
        self.versus_title.setWordWrap(True)
        self.versus_strip = self._new_strip("")
        ours, theirs = self.strip.horizontalScrollBar(), self.versus_strip.horizontalScrollBar()
        ours.valueChanged.connect(theirs.setValue)     # scrolled together: rank n stays above rank n
        theirs.valueChanged.connect(ours.setValue)
        self.versus_box = widget_of(vbox(self.versus_title, self.versus_strip))
        self.versus_box.hide()
        return self.versus_box

    def prefer_comparison(self, path) -> None:
        """Compare with the run at ``path`` whenever the user has chosen nothing (now, if an eval is shown)."""
        self.preferred_reference = Path(path)
        if self.state is not None:
            self._update_compare_choices()

    def _update_compare_choices(self, comparable: list[Path] | None = None) -> None:
        """The other runs evaluated on the current test set (``comparable``: found by the eval-loading worker;
        None: those found for the eval shown); keeps the chosen one when it still qualifies."""
        if comparable is not None:
            self._comparable = list(comparable)
        elif self._comparable is None:   # (no worker found them: scan here, once)
            self._comparable = comparable_runs(self.run_paths, self.current_run(), self.eval_combo.currentText())
        chosen = self.compare_combo.currentData() or (str(self.preferred_reference) if self.preferred_reference else None)
        others = [path for path in self._comparable if path in self.run_paths]
        self._fill_compare_combo(others, chosen)
        self._compare_changed()

    def clear_compare_choices(self) -> None:
        """Only "—": no eval is shown (it could not be loaded), so no other run can be compared with it."""
        self._comparable = None
        self._fill_compare_combo([], None)

    def _fill_compare_combo(self, others: list[Path], chosen: str | None) -> None:
        self.compare_combo.blockSignals(True)
        self.compare_combo.clear()
        self.compare_combo.addItem("—", None)
        for path in others:
            self.compare_combo.addItem(path.name, str(path))
        index = self.compare_combo.findData(chosen) if chosen else -1
        self.compare_combo.setCurrentIndex(max(index, 0))
        self.compare_combo.blockSignals(False)

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
        self._compare_token += 1
        tokens = (self._token, self._compare_token)
        if not reference:
            self._comparison_loaded(tokens, None, None)
            return
        name = Path(reference).name
        self.versus_title.setText(f"loading {name} / {dataset}…")
        self.versus_strip.set_tiles([])
        self.workers.start(load_retrieval_state, Path(reference), dataset,
                           on_result=lambda loaded: self._comparison_loaded(tokens, name, loaded),
                           on_error=lambda message: self._comparison_loaded(tokens, name, message))

    def _comparison_loaded(self, tokens: tuple[int, int], name: str | None, loaded) -> None:
        """``loaded``: the other run's RetrievalState, a LoadFailure / message, or None (no comparison)."""
        if tokens != (self._token, self._compare_token) or self.state is None:
            return
        if loaded is None:
            self.state.clear_reference()
            return
        if isinstance(loaded, (LoadFailure, str)):
            self._comparison_failed(f"cannot compare with {name}: {getattr(loaded, 'message', loaded)}")
            return
        try:
            self.state.set_reference_state(name, loaded)
        except ValueError as error:
            self._comparison_failed(str(error))

    def _comparison_failed(self, message: str) -> None:
        """No comparison, and "vs" says so: back to "—" (a run preferred by default is not tried again)."""
        failed = self.compare_combo.currentData()
        if failed and self.preferred_reference is not None and Path(failed) == self.preferred_reference:
            self.preferred_reference = None
        self.state.clear_reference()
        self.compare_combo.blockSignals(True)
        self.compare_combo.setCurrentIndex(0)
        self.compare_combo.blockSignals(False)
        self.versus_title.setText("")
        self._report_error(message)

    def _rankings(self, query_index: int, k: int):
        """``(SideBySide or None, this run's hits)`` of a query."""
        pair = side_by_side(self.state, query_index, k)
        return pair, (pair.mine if pair is not None else self.state.hits(query_index, k))

    def _show_versus(self, row, pair) -> None:
        """The compared run's strip for the selected query, aligned with this run's (hidden without one)."""
        self.versus_box.setVisible(pair is not None)
        if pair is None:
            self.versus_strip.set_tiles([])
            return
        self.versus_title.setText(describe_versus(pair))
        self.versus_strip.set_empty_text(f"{pair.reference_name} has no ranked list for this query.")
        self.versus_strip.set_tiles(self._hit_specs(pair.theirs, row, pair, theirs=True))
