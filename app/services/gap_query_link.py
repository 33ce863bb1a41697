"""Routes a clicked query image of the Modality-gap plot to the Retrieval panel: the image's run, the eval
folder that holds it as a query, and — once that eval is loaded — the image as the selected query
(``RetrievalPanel.select_query(index)``). ``routed(selected, message)`` says how it went.

The comparison ("vs") chosen in Retrieval stays: the eval shown stays when it holds the query, and when
the clicked run is the run compared with, the two trade places (the run browsed before becomes the one
compared with). Images that are no query never come here: the Dataset tab shows them.

:meth:`GapQueryLink.restrict` routes a lasso selection the same way: the run, the eval folder holding the
lassoed queries and, once loaded, ``RetrievalPanel.restrict_queries(paths, label)`` (the eval's query list
restricted to those images, with a chip that clears it).
"""

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
        self._compare_after: Path | None = None   # the run to compare with once the eval is loaded
        self._restrict: tuple[list[str], str] | None = None   # lassoed queries to show once the eval is loaded
        retrieval.evalLoaded.connect(self._eval_loaded)

    def restrict(self, run_dir, folder: str, paths, label: str) -> None:
        """Show ``run_dir``'s eval ``folder`` in Retrieval with its query list restricted to ``paths``."""
        retrieval, paths = self.retrieval, [str(p) for p in paths]
        run = self._listed_run(Path(run_dir))
        before = (retrieval.current_run(), retrieval.eval_combo.currentText())
        if not hasattr(retrieval, "restrict_queries"):
            self.routed.emit(False, "this Retrieval panel cannot restrict its query list")
            return
        if not retrieval.select_run(run):
            self.routed.emit(False, f"{run.name} has no eval artefacts to browse")
            return
        self._pending, self._compare_after = None, None
        if folder and retrieval.eval_combo.currentText() != folder:
            retrieval.eval_combo.setCurrentText(folder)   # loads that eval folder
        self._restrict = (paths, label)
        loading = (retrieval.current_run(), retrieval.eval_combo.currentText()) != before
        if not loading and retrieval.state is not None:
            self._eval_loaded(retrieval.state)

    def _restrict_loaded(self) -> None:
        (paths, label), self._restrict = self._restrict, None
        shown = int(self.retrieval.restrict_queries(paths, label) or 0)
        folder = self.retrieval.eval_combo.currentText()
        missing = len(paths) - shown
        note = f" ({missing} not queries of {folder})" if missing > 0 else ""
        self.routed.emit(shown > 0, f"Retrieval shows {shown} lassoed query image(s) of {folder}{note}"
                         if shown else f"none of the {len(paths)} lassoed images is a query of {folder}")

    def open(self, run_dir, image_path) -> None:
        """Show ``run_dir`` in Retrieval with ``image_path`` as the query (when it is one of its queries)."""
        retrieval, path = self.retrieval, str(image_path)
        run = self._listed_run(Path(run_dir))
        before = (retrieval.current_run(), retrieval.eval_combo.currentText())
        compared = retrieval.compare_combo.currentData()
        if not retrieval.select_run(run):
            self.routed.emit(False, f"{run.name} has no eval artefacts to browse")
            return
        self._compare_after = before[0] if compared and Path(compared) == run and before[0] != run else None
        folder = self._eval_folder(run, path, before)
        if folder is not None and retrieval.eval_combo.currentText() != folder:
            retrieval.eval_combo.setCurrentText(folder)   # loads that eval folder
        self._pending, self._restrict = path, None
        loading = (retrieval.current_run(), retrieval.eval_combo.currentText()) != before
        if not loading and retrieval.state is not None:
            self._eval_loaded(retrieval.state)   # already shown: select now

    def _listed_run(self, run: Path) -> Path:
        """The run as the Retrieval panel lists it (the gap's runs are resolved paths)."""
        return next((path for path in self.retrieval.run_paths if path == run or path.resolve() == run.resolve()), run)

    def _eval_folder(self, run: Path, path: str, before) -> str | None:
        """The eval shown when it holds the query, else the eval folder named after the image's data folder."""
        state = self.retrieval.state
        if before == (run, self.retrieval.eval_combo.currentText()) and state is not None \
                and state.query_index_of(path) is not None:
            return before[1]
        return eval_folder_for(path, core_client.eval_folders(run))

    def _eval_loaded(self, state) -> None:
        if self._restrict is not None:
            self._restrict_loaded()
            return
        path, self._pending = self._pending, None
        compare_after, self._compare_after = self._compare_after, None
        if path is None:
            return
        if compare_after is not None:
            self.retrieval.compare_with(compare_after)
        name = Path(path).name
        index = state.query_index_of(path)
        if index is None:
            self.routed.emit(False, f"{name} is not a query of {self.retrieval.eval_combo.currentText()} "
                                    "(gallery and training images are not queries)")
            return
        selected = bool(self.retrieval.select_query(index))
        self.routed.emit(selected, f"query {name} opened in Retrieval" if selected else f"cannot show query {name}")
