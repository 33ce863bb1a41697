"""One query's ranked gallery under two runs, rank for rank (the retrieval browser's "vs" strip).

The compared run's eval must cover the same test set; its query is found by image path
(``RetrievalState.reference_index``). Gallery images are compared by path, so the strip can say, for
each tile, where the same image sits in the other run's stored top-k: its position in the list
(:meth:`SideBySide.rank_elsewhere`), or its rank with junk left out as the badges count
(:meth:`SideBySide.counted_rank_elsewhere`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from app.state.retrieval import SAME, GalleryHit, QueryRow, RetrievalState


@dataclass(frozen=True)
class SideBySide:
    """This run's top-k (``mine``) and the compared run's (``theirs``) for one query."""

    query: QueryRow
    mine: list[GalleryHit]
    theirs: list[GalleryHit]                        # [] when the compared run did not evaluate this query
    reference_name: str
    reference_row: QueryRow | None                  # the query in the compared run's eval
    mine_ranks: dict[str, int] = field(default_factory=dict)     # gallery path -> rank in this run's top-k
    theirs_ranks: dict[str, int] = field(default_factory=dict)   # … in the compared run's stored top-k
    mine_counted: dict[str, int] = field(default_factory=dict)   # gallery path -> rank without junk, this run
    theirs_counted: dict[str, int] = field(default_factory=dict)   # … in the compared run's stored top-k

    def rank_elsewhere(self, path: str, in_theirs: bool) -> int | None:
        """Rank of a gallery image in the other list (stored top-k), None when it is not there."""
        return (self.theirs_ranks if in_theirs else self.mine_ranks).get(str(path))

    def counted_rank_elsewhere(self, path: str, in_theirs: bool) -> int | None:
        """Rank of a gallery image in the other list with junk left out, None when it is not there."""
        return (self.theirs_counted if in_theirs else self.mine_counted).get(str(path))


def side_by_side(state: RetrievalState, query_index: int, k: int) -> SideBySide | None:
    """The two rankings of a query (None without a compared run's whole eval)."""
    other = state.reference
    if other is None:
        return None
    query = state.row(query_index)
    mine = state.hits(query_index, k)
    there = int(state.reference_index[query_index])
    if there < 0:
        return SideBySide(query, mine, [], state.reference_name or "", None, _ranks(state, query_index), {},
                          _counted(state, query_index), {})
    return SideBySide(query, mine, other.hits(there, k), state.reference_name or "", other.row(there),
                      _ranks(state, query_index), _ranks(other, there), _counted(state, query_index),
                      _counted(other, there))


def _ranks(state: RetrievalState, query_index: int) -> dict[str, int]:
    paths = state.gallery_paths
    return {paths[int(g)]: rank for rank, g in enumerate(state.topk_indices[query_index], start=1)}


def _counted(state: RetrievalState, query_index: int) -> dict[str, int]:
    paths = state.gallery_paths
    return {paths[gallery]: rank for gallery, rank in state.counted_ranks(query_index).items()}


def describe_versus(pair: SideBySide) -> str:
    """The title of the compared run's strip: its AP and first true match for the query, and how many
    of the top-k are the same identity under each run."""
    if pair.reference_row is None:
        return f"<b>{pair.reference_name}</b> did not evaluate this query (not in its eval of this test set)"
    row = pair.reference_row
    ap = "—" if math.isnan(row.ap) else f"{100 * row.ap:.1f} %"
    first = "—" if row.first_hit < 0 else f"rank {row.first_hit + 1}"
    same_theirs = sum(h.kind == SAME for h in pair.theirs)
    same_mine = sum(h.kind == SAME for h in pair.mine)
    return (f"<b>vs {pair.reference_name}</b> — same query: AP <b>{ap}</b>, first true match <b>{first}</b>, "
            f"{same_theirs} same-identity in its top-{len(pair.theirs)} (this run: {same_mine})")
