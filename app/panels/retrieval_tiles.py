"""The Retrieval panel's gallery tiles: what each tile says, and what a click on one offers.

A tile's badge is its rank with junk left out, as '1st hit' and the protocol count (a junk tile has
none; its tooltip gives its position in the list). A click rings the image in every strip that shows it
(this run's, the compared run's, the true matches) and opens a menu: enlarge it (the query and the image
large, with path, identity, camera, ranks and distance), make it the query (when the same image is a
query of this eval; otherwise the menu says why not), or send the query–gallery pair to the Saliency
panel (``pairForSaliency``).
"""

from __future__ import annotations

from PySide6.QtGui import QCursor
from PySide6.QtWidgets import QMenu

from app.state.gallery_tile import GalleryTile, rank_text
from app.state.retrieval import JUNK, GalleryHit, camera_number, distance_formatter
from app.widgets.gallery_tile_dialog import GalleryTileDialog
from app.widgets.image_strip import TileSpec

SELECT_A_QUERY = "Select a query to see its ranked gallery."
NO_TRUE_MATCH = "No gallery image of this identity from another camera."
FILTERS_HIDE_ALL = "the filters hide every query (Reset shows them again)"


class GalleryTileActionsMixin:
    """Mixed into ``RetrievalPanel``: uses its ``state``, ``strip``, ``versus_strip``, ``matches``,
    ``ranked_title``, ``matches_title``, ``eval_combo``, ``current_run``, ``select_query``, ``statusMessage``
    and ``pairForSaliency``."""

    tile_menu: QMenu | None = None
    tile_dialog: GalleryTileDialog | None = None

    # -- what the tiles show ---------------------------------------------------------------------------
    def _hit_specs(self, hits, row, pair, theirs: bool) -> list[TileSpec]:
        """Tiles of a ranked list: this run's (``theirs`` False) or the compared run's; badges count without junk."""
        run_name = pair.reference_name if theirs else self.current_run().name
        other_name = (self.current_run().name if theirs else pair.reference_name) if pair is not None else None
        fmt = distance_formatter([h.distance for h in hits])
        specs = []
        for hit in hits:
            elsewhere = pair.rank_elsewhere(hit.path, in_theirs=not theirs) if pair is not None else None
            tile = GalleryTile(hit, row, run_name, self.state.query_index_of(hit.path), other_name, elsewhere)
            specs.append(TileSpec(hit.path, hit.kind, f"{fmt(hit.distance)}\nid {hit.pid} · c{camera_number(hit.camid)}",
                                  str(hit.counted_rank or ""),
                                  f"{rank_text(hit)} · {hit.kind} · distance {hit.distance:.6g}"
                                  f"{self._where_else(hit, pair, other_name, theirs)}\n"
                                  f"{hit.path}\n(click: enlarge, make it the query, explain the pair)", payload=tile))
        return specs

    def _where_else(self, hit: GalleryHit, pair, other_name: str | None, theirs: bool) -> str:
        """Where the compared list has the same image (ranks without junk; junk is junk in both lists)."""
        if other_name is None or hit.kind == JUNK:
            return ""
        elsewhere = pair.counted_rank_elsewhere(hit.path, in_theirs=not theirs)
        return f"\nrank {elsewhere} in {other_name}" if elsewhere else f"\nnot in {other_name}'s top-{self.state.topk}"

    def _show_no_query(self) -> None:
        """No query selected: empty strips and no identity's true matches; the titles say when the filters
        hide every query."""
        hidden = self.state is not None and self.state.num_visible == 0
        self.ranked_title.setText("<b>Ranked gallery</b>")
        self.matches_title.setText("<b>True matches</b> — " + (FILTERS_HIDE_ALL if hidden else "no query selected"))
        self.strip.set_empty_text(f"No query: {FILTERS_HIDE_ALL}." if hidden else SELECT_A_QUERY)
        self.matches.set_empty_text("")
        for strip in (self.strip, self.matches):
            strip.set_tiles([])

    def _show_true_matches(self, row) -> None:
        matches = self.state.true_matches(row.index)
        topk = self.state.topk
        self.matches_title.setText(f"<b>True matches</b> of identity {row.pid} (other cameras) · their rank in this "
                                   f"run's list, junk excluded ('&gt;{topk}': beyond the stored top-{topk})")
        self.strip.set_empty_text(SELECT_A_QUERY)
        self.matches.set_empty_text(NO_TRUE_MATCH)
        fmt = distance_formatter([m.distance for m in matches])
        run_name = self.current_run().name
        self.matches.set_tiles([
            TileSpec(m.path, "same", f"{fmt(m.distance)}\nc{camera_number(m.camid)}",
                     str(m.counted_rank) if m.rank else f">{topk}", m.path,
                     payload=GalleryTile(m, row, run_name, self.state.query_index_of(m.path)))
            for m in matches])

    # -- clicks ----------------------------------------------------------------------------------------
    def _tile_clicked(self, spec: TileSpec) -> None:
        tile = spec.payload
        if not isinstance(tile, GalleryTile):
            return
        self.highlight_gallery_image(tile.path)
        self.tile_menu = self.build_tile_menu(tile)
        self.tile_menu.popup(QCursor.pos())

    def highlight_gallery_image(self, path: str | None) -> list[bool]:
        """Ring this gallery image in every strip; per strip (this run, compared run, true matches):
        whether it shows the image."""
        return [strip.highlight(path) for strip in (self.strip, self.versus_strip, self.matches)]

    def _forget_highlight(self) -> None:
        for strip in (self.strip, self.versus_strip, self.matches):
            strip.highlighted_path = None

    def build_tile_menu(self, tile: GalleryTile) -> QMenu:
        menu = QMenu(self)
        menu.addAction("Enlarge…", lambda: self.open_tile(tile))
        if tile.can_become_query:
            menu.addAction("Make it the query", lambda: self.make_query(tile))
        else:
            action = menu.addAction("Make it the query — not a query of this eval")
            action.setEnabled(False)
            action.setToolTip(tile.why_not_a_query(self.eval_combo.currentText()))
            menu.setToolTipsVisible(True)
        menu.addAction("Explain the pair in Saliency →", lambda: self.explain_pair(tile))
        return menu

    def open_tile(self, tile: GalleryTile) -> GalleryTileDialog:
        """The enlarged view (non-modal; one at a time)."""
        if self.tile_dialog is not None:
            self.tile_dialog.close()
        dialog = GalleryTileDialog(tile, self.eval_combo.currentText(), self)
        dialog.makeQueryRequested.connect(self.make_query)
        dialog.saliencyRequested.connect(self.explain_pair)
        dialog.destroyed.connect(lambda *_: setattr(self, "tile_dialog", None))
        dialog.show()
        self.tile_dialog = dialog
        return dialog

    def make_query(self, tile: GalleryTile) -> bool:
        """Show the tile's image as the query (only when it is a query of this eval; otherwise say so)."""
        if not tile.can_become_query or self.state is None:
            self.statusMessage.emit(tile.why_not_a_query(self.eval_combo.currentText()))
            return False
        if self.tile_dialog is not None:
            self.tile_dialog.close()
        return self.select_query(tile.as_query)

    def explain_pair(self, tile: GalleryTile) -> None:
        """Send (query, gallery image) to the Saliency panel."""
        self.pairForSaliency.emit(tile.query.path, tile.path)
        self.statusMessage.emit(f"pair sent to Saliency: {tile.query.name} ↔ {tile.path.rsplit('/', 1)[-1]}")

