"""The Modality-gap panel's embedding-projector views, wired: colour by, find, the selected point's nearest
neighbours, the lasso and "Send to Retrieval", and the busy row of a long computation.

The model is ``panel.state.selection`` (:class:`app.state.gap_selection.GapSelection`); the widgets
(:mod:`app.widgets.gap_projector_controls`) write to it and draw what it emits. Nothing here computes
embeddings or projections: recolouring, finding and selecting use the arrays of the plots shown.
"""

from __future__ import annotations

from pathlib import Path

from app.state.gap_colours import COLOUR_BY
from app.state.gap_view import IMAGE, TEXT, HoveredPoint
from app.widgets.gap_projector_controls import BusyRow, ColourControls, FindControls, LassoControls, NeighbourBox


class GapProjector:
    def __init__(self, panel) -> None:
        self.panel = panel
        self.selection = panel.state.selection
        self.colour = ColourControls()
        self.find = FindControls()
        self.lasso = LassoControls()
        self.neighbours = NeighbourBox()
        self.busy = BusyRow()

    @property
    def plots(self):
        return self.panel.plots

    def subscribe(self) -> None:
        """Connect the widgets (after the panel built its plots)."""
        selection, panel = self.selection, self.panel
        self.colour.combo.currentIndexChanged.connect(lambda _: self._colour_chosen(self.colour.combo.currentData()))
        self.find.edit.returnPressed.connect(lambda: selection.find(self.find.edit.text()))
        self.find.edit.textChanged.connect(lambda text: selection.find(text) if not text else None)
        self.lasso.toggle.toggled.connect(self.plots.set_lasso)
        self.lasso.send.clicked.connect(self.send_to_retrieval)
        self.lasso.clear.clicked.connect(self._clear_lasso)
        self.plots.pointSelected.connect(selection.select)
        self.plots.lassoDrawn.connect(self._lassoed)
        self.neighbours.list.neighbourChosen.connect(self._neighbour_chosen)
        self.busy.cancelled.connect(panel.cancel)
        panel.state.busy_changed.connect(self.busy.set_busy)
        selection.colour_by_changed.connect(self._draw_colours)
        selection.search_changed.connect(self._draw_search)
        selection.selected_changed.connect(lambda _: self._draw_marks())
        selection.neighbours_changed.connect(self._draw_neighbours)
        selection.lassoed_changed.connect(self._draw_lasso)

    # -- the state -> the widgets -----------------------------------------------------------------------------
    def views_shown(self, views) -> None:
        """The panel drew new plots (or a message): apply the views to them."""
        self.selection.set_views(views)
        self.colour.set_unavailable({by: self.selection.unavailable(by) for by in COLOUR_BY})
        self._draw_colours(self.selection.colour_by)
        self._draw_search(self.selection.search)
        self._draw_neighbours(self.selection.neighbours)
        self._draw_lasso(self.selection.lassoed)

    def _draw_colours(self, by: str) -> None:
        combo = self.colour.combo
        if combo.currentData() != by:
            combo.blockSignals(True)
            combo.setCurrentIndex(combo.findData(by))
            combo.blockSignals(False)
        colourings = self.selection.colourings() if self.selection.views else []
        self.plots.recolour(colourings)
        self.colour.show_legend(by, colourings)

    def _draw_search(self, search) -> None:
        self.find.message.setText(search.message)
        self._draw_marks()

    def _draw_marks(self) -> None:
        lassoed = self.selection.lassoed
        self.plots.show_marks(self.selection.search.found, [(lassoed[0], i) for i in lassoed[1]] if lassoed else [],
                              self.selection.selected)

    def _draw_neighbours(self, neighbours) -> None:
        point = self.selection.selected
        if point is None:
            self.neighbours.title.setText("<span style='color:#777'>Click a point: its 10 nearest neighbours in the "
                                          "embedding (not the projection) show here.</span>")
        else:
            view = next(v for v in self.selection.views if v.run == point.run)
            self.neighbours.title.setText(
                f"<b>Selected:</b> {point.kind} · identity {int(view.pids[point.index])} · "
                f"{Path(view.image_path(point.index)).name} ({Path(point.run).name})<br>"
                "<span style='color:#777'>nearest in the embedding (cosine; not in the 2-D projection)</span>")
        self.neighbours.list.show_neighbours(neighbours)
        self._draw_marks()

    def _draw_lasso(self, lassoed) -> None:
        send = self.selection.queries_to_send()
        self.lasso.count.setText(self.selection.lasso_text())
        self.lasso.send.setEnabled(bool(send and send.paths))
        self.lasso.clear.setEnabled(bool(lassoed))
        if not lassoed:
            self.plots.clear_lasso()
        self._draw_marks()

    # -- the widgets -> the state ------------------------------------------------------------------------------
    def _colour_chosen(self, by) -> None:
        if by and not self.selection.unavailable(by):
            self.selection.set_colour_by(by)
        else:
            self._draw_colours(self.selection.colour_by)

    def _lassoed(self, plot: int, corners) -> None:
        self.plots.clear_lasso(keep=plot)
        if not self.selection.lasso(plot, corners):
            self.lasso.count.setText("no image point inside the lasso")

    def _clear_lasso(self) -> None:
        self.selection.clear_lasso()

    def _neighbour_chosen(self, kind: str, index: int) -> None:
        point = self.selection.selected
        if point is not None and kind in (IMAGE, TEXT):
            self.selection.select(HoveredPoint(point.run, kind, index))

    def send_to_retrieval(self) -> bool:
        """Send the lassoed query images of its run to Retrieval (``panel.sendQueries``); False: none to send."""
        send = self.selection.queries_to_send()
        if send is None or not send.paths:
            self.lasso.count.setText("no query image in the lasso: only query images of a run's eval can be "
                                     "sent to Retrieval (use 'Images of: query + gallery identities')")
            return False
        self.panel.statusMessage.emit(send.message)
        self.lasso.count.setText(send.message)
        self.panel.sendQueries.emit(send.run, send.folder, list(send.paths), send.label)
        return True
