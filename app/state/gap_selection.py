"""The Modality-gap panel's embedding-projector views (no Qt): colour by, find, the selected point and its
nearest neighbours, the lasso selection and what of it goes to Retrieval.

Evented (:mod:`app.state.evented`), each signal once per change:

- ``colour_by_changed(str)``: how the points are coloured (:mod:`app.state.gap_colours`);
- ``search_changed(SearchResult)``: the points found by identity or path (:mod:`app.state.gap_search`);
- ``selected_changed(object)``: the selected point (``HoveredPoint`` or None);
- ``neighbours_changed(tuple)``: its nearest neighbours in the embedding (:mod:`app.state.gap_neighbours`);
- ``lassoed_changed(tuple)``: ``(plot index, image indices)`` inside the last lasso, or ``()``.

A new computation keeps the colouring and (when its run is still plotted) the selected point and the
lassoed points — re-projecting moves the points but does not change them — and searches again.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from psygnal import Signal

from app.state.evented import EventedState
from app.state.gap_colours import COLOUR_BY, colourings, unavailable
from app.state.gap_neighbours import nearest_neighbours
from app.state.gap_search import SearchResult, search_points
from app.state.gap_view import IMAGE, HoveredPoint
from app.state.lasso import inside_polygon


@dataclass(frozen=True)
class QueriesToSend:
    """Lassoed query images of one run, for Retrieval: ``paths`` of eval ``folder``; ``ignored``: the other
    lassoed points (no query, or a query of another eval folder)."""

    run: str
    folder: str
    paths: tuple
    ignored: int

    @property
    def label(self) -> str:
        return f"{len(self.paths)} lassoed in Modality gap"

    @property
    def message(self) -> str:
        skipped = f"; {self.ignored} other point(s) ignored (not queries of {self.folder})" if self.ignored else ""
        return f"sending {len(self.paths)} query image(s) of {Path(self.run).name} to Retrieval{skipped}"


class GapSelection(EventedState):
    reset = Signal()
    error_reported = Signal(str)
    error_cleared = Signal()
    colour_by_changed = Signal(str)
    search_changed = Signal(object)
    selected_changed = Signal(object)
    neighbours_changed = Signal(tuple)
    lassoed_changed = Signal(tuple)

    EVENTED: ClassVar[dict[str, str]] = {"colour_by": "colour_by_changed", "search": "search_changed",
                                         "selected": "selected_changed", "neighbours": "neighbours_changed",
                                         "lassoed": "lassoed_changed"}

    def __init__(self) -> None:
        super().__init__()
        self.views: list = []
        self.colour_by = "modality"
        self.search = SearchResult("")
        self.selected: HoveredPoint | None = None
        self.neighbours: tuple = ()
        self.lassoed: tuple = ()

    # -- the views shown ------------------------------------------------------------------------------------
    def set_views(self, views) -> None:
        """New plots (a computation, or none): keep what still applies, search again."""
        with self._changing():
            self.views = list(views)
            if self.colour_by != "modality" and unavailable(self.views, self.colour_by):
                self.colour_by = "modality"
            self.search = search_points(self.views, self.search.text)
            if self.selected is not None and self._view_of(self.selected.run) is None:
                self.selected = None
            self.neighbours = self._neighbours()
            if self.lassoed and (self.lassoed[0] >= len(self.views)
                                 or max(self.lassoed[1], default=-1) >= len(self.views[self.lassoed[0]].image_xy)):
                self.lassoed = ()

    def _view_of(self, run: str):
        return next((view for view in self.views if view.run == run), None)

    # -- colour by ------------------------------------------------------------------------------------------
    def unavailable(self, by: str) -> str:
        return unavailable(self.views, by) if by != "modality" else ""

    def set_colour_by(self, by: str) -> None:
        if by not in COLOUR_BY:
            raise ValueError(f"colour by '{by}' is not one of {', '.join(COLOUR_BY)}")
        with self._changing():
            self.colour_by = by

    def colourings(self) -> list:
        return colourings(self.views, self.colour_by)

    # -- find -----------------------------------------------------------------------------------------------
    def find(self, text: str) -> SearchResult:
        """Find points by identity number or path fragment; a single image found becomes the selected point."""
        with self._changing():
            self.search = search_points(self.views, text)
            if self.search.how == "path" and len(self.search.found) == 1:
                plot, index = self.search.found[0]
                self.selected = HoveredPoint(self.views[plot].run, IMAGE, index)
                self.neighbours = self._neighbours()
        return self.search

    # -- the selected point ---------------------------------------------------------------------------------
    def select(self, point: HoveredPoint | None) -> None:
        with self._changing():
            self.selected = point if point is None or self._view_of(point.run) is not None else None
            self.neighbours = self._neighbours()

    def _neighbours(self) -> tuple:
        point = self.selected
        view = self._view_of(point.run) if point is not None else None
        return tuple(nearest_neighbours(view, point.kind, point.index)) if view is not None else ()

    # -- the lasso ------------------------------------------------------------------------------------------
    def lasso(self, plot: int, polygon) -> tuple:
        """The image points of plot ``plot`` inside ``polygon`` (view coordinates) become the lassoed points."""
        with self._changing():
            view = self.views[plot] if 0 <= plot < len(self.views) else None
            inside = () if view is None else tuple(int(i) for i in inside_polygon(view.image_xy, polygon).nonzero()[0])
            self.lassoed = (plot, inside) if inside else ()
        return self.lassoed

    def clear_lasso(self) -> None:
        with self._changing():
            self.lassoed = ()

    def queries_to_send(self) -> QueriesToSend | None:
        """The lassoed images that are queries of the run's eval (the eval folder holding most of them)."""
        if not self.lassoed:
            return None
        plot, indices = self.lassoed
        view = self.views[plot]
        folders = {view.image_path(i): view.query_eval(view.image_path(i)) for i in indices}
        counts = Counter(folder for folder in folders.values() if folder is not None)
        if not counts:
            return QueriesToSend(view.run, "", (), len(indices))
        folder = counts.most_common(1)[0][0]
        paths = tuple(path for path, f in folders.items() if f == folder)
        return QueriesToSend(view.run, folder, paths, len(indices) - len(paths))

    def lasso_text(self) -> str:
        if not self.lassoed:
            return ""
        plot, indices = self.lassoed
        send = self.queries_to_send()
        queries = len(send.paths) if send is not None else 0
        return (f"{len(indices)} image point(s) lassoed in {Path(self.views[plot].run).name}, "
                f"{queries} of them queries")
