"""What a gallery tile of the retrieval browser stands for, and what its enlarged view says.

A tile is one entry of a run's ranked list for a query (``GalleryHit``); a click offers to enlarge it,
to make it the query (possible only when the same image is a query of the same eval), or to send the
query–gallery pair to the Saliency panel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from app.state.retrieval import JUNK, GalleryHit, QueryRow, camera_number

KIND_WORDS = {"same": "same identity as the query", "different": "different identity",
              "junk": "junk (same identity and camera as the query: ignored by the protocol)"}


@dataclass(frozen=True)
class GalleryTile:
    """A gallery image in ``run_name``'s ranked list of ``query``."""

    hit: GalleryHit
    query: QueryRow
    run_name: str
    as_query: int | None = None          # its index as a query of the same eval, None when it is none
    other_name: str | None = None        # the compared run, if any
    rank_in_other: int | None = None     # its rank in that run's stored top-k, None when absent

    @property
    def path(self) -> str:
        return self.hit.path

    @property
    def can_become_query(self) -> bool:
        return self.as_query is not None

    def why_not_a_query(self, eval_name: str) -> str:
        return (f"{Path(self.path).name} is a gallery image, not a query of {eval_name}: only queries have a "
                "ranked list")

    def details(self) -> list[tuple[str, str]]:
        """(label, value) rows of the enlarged view."""
        hit = self.hit
        rank = f"{hit.rank}" if hit.rank else f"beyond the stored top-k"
        rows = [("file", Path(hit.path).name), ("identity", str(hit.pid)), ("camera", f"c{camera_number(hit.camid)}"),
                ("match", KIND_WORDS.get(hit.kind, hit.kind)),
                (f"rank ({self.run_name})", rank),
                ("cosine distance", "—" if math.isnan(hit.distance) else f"{hit.distance:.4f}")]
        if self.other_name:
            rows.append((f"rank ({self.other_name})", str(self.rank_in_other) if self.rank_in_other
                         else "not in its stored top-k"))
        rows += [("query", f"{self.query.name} · identity {self.query.pid} · c{camera_number(self.query.camid)}"),
                 ("path", hit.path)]
        return rows


def rank_text(hit: GalleryHit) -> str:
    """'rank 75 (junk excluded; #79 in the list)', 'rank 3', or what a junk hit is — the rank the strips'
    badges and "1st hit" count, with the list position beside it where the two differ."""
    if hit.kind == JUNK:
        return f"junk: not ranked (#{hit.rank} in the list)"
    if hit.counted_rank == hit.rank:
        return f"rank {hit.rank}"
    return f"rank {hit.counted_rank} (junk excluded; #{hit.rank} in the list)"

