"""The Retrieval panel's query views: image attributes for the filters, tags, saved views, the export of
the listed queries, and a selection made in another panel (:meth:`QueryViewsMixin.restrict_queries`).

A mixin of :class:`app.panels.retrieval_panel.RetrievalPanel`: it uses the panel's ``browser``,
``state``, ``table``, ``filters``, ``workers`` and ``shown_dataset`` (the eval folder's dataset name).

- Captions and occlusion (SynthPed) load in a worker once per dataset folder (cached), then go to the
  eval's state (``RetrievalState.set_extras``); the filter bar says when the dataset has none.
- Tags and saved views live in the workspace (:mod:`app.state.query_tags`, :mod:`app.state.saved_views`);
  an unreadable file shows one line in the list's banner and switches that feature off, file untouched,
  until it is fixed (each workspace rescan looks again).
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QInputDialog

from app.services import core_client
from app.state.query_attributes import QueryAttributes, Restriction
from app.state.query_export import export_rows, write_export
from app.state.query_tags import TagStore, tag_key
from app.state.saved_views import SavedView, ViewStore
from app.widgets.error_banner import ErrorBanner
from app.widgets.query_tag_box import QueryTagBox
from app.widgets.query_views_bar import QueryViewsBar

NO_WORKSPACE = "no workspace open: tags and views are kept in the workspace"


def load_attributes(query_paths) -> tuple[dict, QueryAttributes]:
    """In a worker: the images' annotations and the attributes of these queries."""
    annotations = core_client.image_annotations(query_paths)
    return annotations, QueryAttributes.from_annotations(query_paths, annotations)


def dataset_folder(state) -> str:
    """The folder that holds the queries' split folder (a SynthPed root holds captions.jsonl)."""
    return os.path.dirname(os.path.dirname(state.query_paths[0])) if state.query_paths else ""


class QueryViewsMixin:
    def _build_query_views(self):
        self.views_bar = QueryViewsBar()
        self.tag_box = QueryTagBox()
        self.store_banner = ErrorBanner()
        self.workspace_path: Path | None = None
        self.tag_store = TagStore(None, error=NO_WORKSPACE)
        self.view_store = ViewStore(None, error=NO_WORKSPACE)
        self._annotations: dict[str, dict] = {}   # dataset folder -> its annotations, loaded once
        self._attributes_token = 0
        self._resolved: tuple = (None, {})        # (state, resolved query path -> index)
        self._pending_restriction = None          # (paths, label) asked for while an eval loads
        self.count_label.setWordWrap(True)   # the active criteria are listed there
        self._show_stores()
        return self.store_banner, self.views_bar, self.tag_box

    def _subscribe_query_views(self) -> None:
        b = self.browser
        b.eval_changed.connect(self._eval_shown_for_views)
        for signal in (b.eval_changed, b.extras_changed):
            signal.connect(self._show_selection_chip)
        self.table.tagRequested.connect(self.tag_queries)
        self.table.untagRequested.connect(self.untag_queries)
        self.tag_box.tagClicked.connect(lambda tag: self.tag_queries(self.table.selected_queries(), tag))
        self.tag_box.untagClicked.connect(lambda tag: self.untag_queries(self.table.selected_queries(), tag))
        self.views_bar.viewChosen.connect(self.apply_view)
        self.views_bar.saveClicked.connect(self._save_view_clicked)
        self.views_bar.deleteClicked.connect(self.delete_view)
        self.views_bar.exportClicked.connect(self._export_queries_clicked)
        self.views_bar.selectionCleared.connect(self.clear_restriction)

    # -- the workspace's tags and views ----------------------------------------------------------------
    def open_query_stores(self, workspace) -> None:
        """Read the workspace's tags and views: when another workspace opens, or while a file is unreadable
        (a rescan finds it fixed)."""
        path = Path(workspace) if workspace else None
        if path == self.workspace_path and self.tag_store.writable and self.view_store.writable:
            return
        self.workspace_path = path
        self.tag_store = TagStore.load(path) if path else TagStore(None, error=NO_WORKSPACE)
        self.view_store = ViewStore.load(path) if path else ViewStore(None, error=NO_WORKSPACE)
        self._show_stores()
        self._show_tags()

    def _show_stores(self) -> None:
        errors = [store.error for store in (self.tag_store, self.view_store)
                  if store.path is not None and store.error]
        if errors:
            if self.store_banner.message != " · ".join(errors):
                self.store_banner.show_error(" · ".join(errors))
        else:
            self.store_banner.hide()
        self.tag_box.set_available(self.tag_store.writable, self.tag_store.error or "")
        self.table.tagging_enabled = self.tag_store.writable
        self.views_bar.set_available(self.view_store.writable, self.view_store.error or "")
        self.views_bar.set_views(self.view_store.names(), self.views_bar.current_view())

    def _show_tags(self) -> None:
        """The tags of the eval shown into its state; the tag lists offered follow."""
        known = self.tag_store.known_tags()
        self.tag_box.set_tags(known)
        self.table.suggested_tags = known[:6]   # the suggested tags, then a few in use
        used = {t for tags in self.tag_store.tags.values() for t in tags}
        self.filters.attributes.set_tags([t for t in known if t in used])
        state = self.state
        if state is not None:
            state.set_extras(replace(state.extras, tags=self.tag_store.for_eval(self.shown_dataset, state.query_paths)))

    def tag_queries(self, query_indices, tag: str) -> int:
        """Tag these queries of the eval shown ('' asks for the text); returns how many got the tag."""
        if self.state is None or not query_indices:
            return 0
        if not tag.strip():
            tag, ok = QInputDialog.getText(self, "Tag queries", f"Tag for {len(query_indices)} selected queries:")
            if not ok or not tag.strip():
                return 0
        return self._change_tags(lambda keys: self.tag_store.add(keys, tag), query_indices)

    def untag_queries(self, query_indices, tag: str | None) -> int:
        """Take ``tag`` (None or '': every tag) off these queries; returns how many changed."""
        if self.state is None or not query_indices:
            return 0
        return self._change_tags(lambda keys: self.tag_store.remove(keys, tag or None), query_indices)

    def _change_tags(self, change, query_indices) -> int:
        keys = [tag_key(self.shown_dataset, self.state.query_paths[i]) for i in query_indices]
        try:
            changed = change(keys)
        except (ValueError, OSError) as error:
            self.store_banner.show_error(f"Tags not saved: {error}")
            return 0
        self._show_tags()
        return changed

    # -- saved views -------------------------------------------------------------------------------------
    def _save_view_clicked(self) -> None:
        name, ok = QInputDialog.getText(self, "Save view", "Name of the view (filters + sort):",
                                        text=self.views_bar.current_view())
        if ok and name.strip():
            self.save_view(name)

    def save_view(self, name: str) -> SavedView | None:
        """Keep the current filters (tag and attribute criteria included) and sort as view ``name``."""
        view = SavedView(" ".join(name.split()), self.browser.query_filter, self.browser.sort_key)
        try:
            self.view_store.save(view)
        except (ValueError, OSError) as error:
            self.store_banner.show_error(f"View not saved: {error}")
            return None
        self.views_bar.set_views(self.view_store.names(), view.name)
        self.statusMessage.emit(f"view '{view.name}' saved in {self.view_store.path}")
        return self.view_store.get(view.name)

    def apply_view(self, name: str) -> bool:
        """Show the saved view ``name``: its filters and sort (a ΔAP sort needs a compared run)."""
        view = self.view_store.get(name)
        if view is None:
            return False
        self.browser.set_filter(view.query_filter)
        state = self.state
        if state is not None:
            usable = state.reference_name is not None or not view.sort_key.startswith("delta")
            state.set_sort(view.sort_key if usable else "ap_ascending")
            if not usable:
                self.statusMessage.emit(f"view '{name}' sorts by ΔAP: choose a run under 'vs' to use its sort")
        self.views_bar.set_views(self.view_store.names(), name)
        return True

    def delete_view(self, name: str) -> bool:
        try:
            deleted = self.view_store.delete(name)
        except (ValueError, OSError) as error:
            self.store_banner.show_error(f"View not deleted: {error}")
            return False
        self.views_bar.set_views(self.view_store.names())
        return deleted

    # -- export ------------------------------------------------------------------------------------------
    def _export_queries_clicked(self) -> None:
        if self.state is None:
            return
        start = str((self.workspace_path or Path.home()) / f"queries_{self.shown_dataset or 'eval'}.csv")
        path, _ = QFileDialog.getSaveFileName(self, "Export the listed queries", start, "CSV (*.csv);;JSON (*.json)")
        if path:
            self.export_queries(path)

    def export_queries(self, path) -> Path | None:
        """Write the listed queries, in the order shown, to ``path`` (.csv or .json); None when it cannot."""
        state = self.state
        if state is None:
            return None
        run = self.current_run()
        about = {"run": run.name if run else None, "dataset": self.shown_dataset, "compared_with": state.reference_name,
                 "ap_unit": "fraction"}
        try:
            written = write_export(path, export_rows(state), about)
        except (ValueError, OSError) as error:
            self._report_error(f"Queries not exported: {error}")
            return None
        self.statusMessage.emit(f"{state.num_visible} queries written to {written}")
        return written

    # -- another panel's selection -------------------------------------------------------------------------
    def restrict_queries(self, paths: list[str], label: str) -> int:
        """List only the queries of the eval shown whose image is one of ``paths`` (matched by resolved path),
        with a clearable chip 'selection from LABEL: N images ×'. Returns how many queries are listed (0
        while an eval loads: the selection then applies to it). Loading another eval clears it."""
        state = self.state
        if state is None:
            self._pending_restriction = (list(paths), label)
            return 0
        self._pending_restriction = None
        indices = self._match_queries(state, paths)
        state.set_extras(replace(state.extras, restriction=Restriction(frozenset(indices), label)))
        return state.num_visible

    def clear_restriction(self) -> None:
        if self.state is not None and self.state.extras.restriction is not None:
            self.state.set_extras(replace(self.state.extras, restriction=None))

    def _match_queries(self, state, paths) -> set[int]:
        found, unmatched = set(), []
        for path in paths:
            index = state.query_index_of(str(path))
            if index is None:
                unmatched.append(str(path))
            else:
                found.add(index)
        if unmatched:
            if self._resolved[0] is not state:
                self._resolved = (state, {os.path.realpath(p): i for i, p in enumerate(state.query_paths)})
            resolved = self._resolved[1]
            found.update(i for i in (resolved.get(os.path.realpath(p)) for p in unmatched) if i is not None)
        return found

    def _show_selection_chip(self, *_) -> None:
        restriction = self.state.extras.restriction if self.state is not None else None
        self.views_bar.show_selection(restriction.text() if restriction is not None else None)

    # -- the eval shown: its attributes and tags ---------------------------------------------------------------
    def _eval_shown_for_views(self, state) -> None:
        if state is None:
            return
        self._show_tags()
        if self._pending_restriction is not None:
            self.restrict_queries(*self._pending_restriction)
        folder = dataset_folder(state)
        if folder in self._annotations:
            self._attributes_loaded(state, folder, (self._annotations[folder], None))
            return
        self._attributes_token += 1
        token = self._attributes_token
        self.filters.attributes.set_availability(False, False, "loading captions and occlusion…")
        self.workers.start(load_attributes, list(state.query_paths),
                           on_result=lambda result: token == self._attributes_token
                           and self._attributes_loaded(state, folder, result),
                           on_error=lambda message: token == self._attributes_token
                           and self._attributes_failed(state, message))

    def _attributes_loaded(self, state, folder: str, result) -> None:
        annotations, attributes = result
        self._annotations[folder] = annotations
        if state is not self.state:
            return
        if attributes is None:
            attributes = QueryAttributes.from_annotations(state.query_paths, annotations)
        state.set_extras(replace(state.extras, attributes=attributes))
        self.filters.attributes.set_availability(attributes.has_captions, attributes.has_occlusion,
                                                 attributes.availability())

    def _attributes_failed(self, state, message: str) -> None:
        if state is self.state:
            self.filters.attributes.set_availability(False, False, f"captions could not be read: {message}")
