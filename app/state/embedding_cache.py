"""The Modality-gap panel's embeddings, computed once per run and inputs and reused (no Qt here).

Embedding a run's images and texts loads its model and runs it over hundreds of images (seconds);
projecting them to 2-D (PCA: milliseconds) and colouring the points need none of that. The panel keeps
what :func:`app.services.core_client.compute_gap_view` collected for a run — the unprojected
``GapResult``, the images' captions and occlusion, which images are queries, their cameras and splits —
under an :class:`EmbeddingKey`: the run folder, its checkpoints' newest modification time (a run trained
further embeds anew), the split, the number of identities, the text side and the seed. Changing only the
projection or the colouring therefore never embeds again; pressing Compute again on the very inputs shown
embeds anew (the panel drops those runs with :meth:`EmbeddingCache.forget`).

The cache is shared by the GUI thread and the workers: every access holds a lock.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field


@dataclass(frozen=True)
class EmbeddingKey:
    run: str                  # the run folder, resolved
    checkpoint_mtime: int     # newest st_mtime_ns of the run's checkpoints and prototypes (0: none)
    split: str
    ids: int
    text: str
    seed: int = 0


@dataclass(eq=False)
class CachedRun:
    """What one run's embedding gave: the unprojected ``GapResult`` and what its views show about the images."""

    result: object                                    # api.GapResult, no 2-D coordinates
    annotations: dict = field(default_factory=dict)   # path -> {"caption", "occlusion"}
    queries: dict = field(default_factory=dict)       # path -> eval folder where it is a query
    facts: dict = field(default_factory=dict)         # path -> {"camera": int, "split": str}


class EmbeddingCache:
    """At most ``limit`` runs' embeddings, the least recently used dropped first; counts its misses."""

    def __init__(self, limit: int = 24) -> None:
        self.limit = limit
        self._entries: OrderedDict[EmbeddingKey, CachedRun] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: EmbeddingKey) -> CachedRun | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            self.hits += 1
            self._entries.move_to_end(key)
            return entry

    def put(self, key: EmbeddingKey, entry: CachedRun) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.limit:
                self._entries.popitem(last=False)

    def holds(self, key: EmbeddingKey) -> bool:
        with self._lock:
            return key in self._entries

    def forget(self, runs) -> int:
        """Drop every entry of the run folders ``runs`` (resolved paths as strings); returns how many."""
        wanted = {str(run) for run in runs}
        with self._lock:
            keys = [key for key in self._entries if key.run in wanted]
            for key in keys:
                del self._entries[key]
            return len(keys)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
