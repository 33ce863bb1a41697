"""Routes a clicked image of the Modality-gap plot to the Retrieval panel: the image's run, the eval
folder of its dataset, and — once that eval is loaded — the image as the selected query
(``RetrievalPanel.select_query(index)``). ``routed(selected, message)`` says how it went."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from app.services import core_client
from app.state.gap_view import eval_folder_for


class GapQueryLink(QObject):
    routed = Signal(bool, str)

    def __init__(self, retrieval, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.retrieval = retrieval
        self._pending: str | None = None
        retrieval.evalLoaded.connect(self._eval_loaded)

    def open(self, run_dir, image_path) -> None:
        """Show ``run_dir`` in Retrieval with ``image_path`` as the query (when it is one of its queries)."""
        run, path = Path(run_dir), str(image_path)
        before = (self.retrieval.current_run(), self.retrieval.eval_combo.currentText())
        if not self.retrieval.select_run(run):
            self.routed.emit(False, f"{run.name} has no eval artefacts to browse")
            return
        folder = eval_folder_for(path, core_client.eval_folders(run))
        if folder is not None and self.retrieval.eval_combo.currentText() != folder:
            self.retrieval.eval_combo.setCurrentText(folder)   # loads that eval folder
        self._pending = path
        loading = (self.retrieval.current_run(), self.retrieval.eval_combo.currentText()) != before
        if not loading and self.retrieval.state is not None:
            self._eval_loaded(self.retrieval.state)   # already shown: select now

    def _eval_loaded(self, state) -> None:
        path, self._pending = self._pending, None
        if path is None:
            return
        name = Path(path).name
        try:
            index = state.query_paths.index(path)
        except ValueError:
            self.routed.emit(False, f"{name} is not a query of {self.retrieval.eval_combo.currentText()} "
                                    "(gallery and training images are not queries)")
            return
        selected = bool(self.retrieval.select_query(index))
        self.routed.emit(selected, f"query {name} opened in Retrieval" if selected else f"cannot show query {name}")
