"""What the Retrieval panel says next to the selected query's image: its identity, camera, AP (and ΔAP
against the compared run), the rank of its first true match and what its top-k holds. Ranks count
without junk, as ``first_hit`` and the strips' badges do (:class:`app.state.retrieval.GalleryHit`)."""

from __future__ import annotations

import math

from app.state.retrieval import DIFFERENT, JUNK, SAME, GalleryHit, QueryRow, RetrievalState, camera_number


def describe_query(state: RetrievalState, row: QueryRow, hits: list[GalleryHit]) -> str:
    """The query's lines next to its image: identity, camera, AP (and ΔAP), first hit, top-k counts."""
    ap = "— (no true match in the gallery; skipped)" if not row.evaluated else f"{100 * row.ap:.1f} %"
    first = "—" if row.first_hit < 0 else f"rank {row.first_hit + 1} (junk excluded)"
    counts = {kind: sum(h.kind == kind for h in hits) for kind in (SAME, DIFFERENT, JUNK)}
    delta = state.delta(row.index)
    versus = "" if math.isnan(delta) else (f" · vs {state.reference_name}: AP "
                                           f"{100 * state.reference_ap[row.index]:.1f} % ({100 * delta:+.1f})")
    return (f"<b>Query {row.index}</b> · {row.name}<br>identity <b>{row.pid}</b> · camera "
            f"<b>c{camera_number(row.camid)}</b><br>AP <b>{ap}</b>{versus}<br>first true match: <b>{first}</b> · "
            f"in the top-{len(hits)}: {counts[SAME]} same id, {counts[DIFFERENT]} different, {counts[JUNK]} junk"
            f"<br><span style='color:#777'>{row.path}</span>")

