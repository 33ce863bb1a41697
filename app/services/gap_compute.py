"""The Modality-gap panel's computation (runs in a worker): embed each run once, project, prepare the views.

:func:`compute_gap_view` embeds a run (``api.collect_gap_embeddings``: its model over hundreds of images)
only when the :class:`app.state.embedding_cache.EmbeddingCache` holds nothing for the run's
:func:`gap_embedding_key` — the run folder, its checkpoints' newest modification time, the split, the
identities, the text side and the seed. What the view shows about the images besides their coordinates
(captions and occlusion, which of them are queries, their cameras and splits) is read with the embedding
and cached with it, so a change of projection only projects (PCA: milliseconds).
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from scing_core import api

from app.services import core_client
from app.services.errors import error_message
from app.state.embedding_cache import CachedRun, EmbeddingKey
from app.state.gap import run_label
from app.state.gap_view import GapView
from app.state.runs import method_title

log = logging.getLogger(__name__)


def compute_gap_view(request, project, progress=None, cache=None):
    """``(GapView per run, projected GapResult per run, {run name: error line})`` of a
    :class:`app.state.gap.GapRequest`; ``project(image_emb, text_emb, method, seed) -> (image_xy, text_xy)``."""
    runs, errors = [], {}
    for number, run_dir in enumerate(request.run_dirs, start=1):
        key = gap_embedding_key(run_dir, request)
        cached = cache.get(key) if cache is not None else None
        if cached is None:
            if progress is not None:
                progress(f"embeddings {number}/{len(request.run_dirs)}: {Path(run_dir).name}")
            try:
                cached = embed_run(run_dir, request)
            except Exception as error:
                if not core_client._is_run_problem(error):
                    raise
                errors[Path(run_dir).name] = error_message(error)
                continue
            if cache is not None:
                cache.put(key, cached)
        runs.append(cached)
    projected = []
    for number, run in enumerate(runs, start=1):
        if progress is not None:
            progress(f"projecting {number}/{len(runs)} with {request.projection.upper()}")
        result = run.result
        image_xy, text_xy = project(result.image_emb, result.text_emb, request.projection, request.seed)
        projected.append(dataclasses.replace(result, image_xy=image_xy, text_xy=text_xy, projection=request.projection))
    views = [GapView.from_result(r, f"{run_label(r)} · {method_title(r.method)}", run.annotations, run.queries,
                                 run.facts) for r, run in zip(projected, runs)]
    return views, projected, errors


def gap_embedding_key(run_dir, request) -> EmbeddingKey:
    """*fast* — the cache key of a run's gap embeddings for ``request``."""
    run = Path(run_dir).expanduser().resolve()
    files = [*(run / "checkpoints").glob("*.pt"), run / "prototypes.pt"]
    mtime = max((f.stat().st_mtime_ns for f in files if f.is_file()), default=0)
    return EmbeddingKey(str(run), mtime, request.split, int(request.ids), request.text, int(request.seed))


def embed_run(run_dir, request) -> CachedRun:
    """Embed one run (the slow part) and read what its view shows about the images."""
    result = api.collect_gap_embeddings(run_dir, ids=request.ids, text=request.text, seed=request.seed,
                                        split=request.split)
    paths = [str(p) for p in (result.paths or [])]
    return CachedRun(result, api.image_annotations(paths), core_client.gap_queries(result),
                     gap_image_facts(result.run, paths))


def gap_image_facts(run_dir, paths) -> dict[str, dict]:
    """``{path: {"camera": camid, "split": train|query|gallery}}`` of ``paths`` as the run's dataset records
    them ({} when the dataset cannot be read: colouring by camera or split is then unavailable)."""
    wanted = set(map(str, paths))
    try:
        data = api.TrainedRun.open(run_dir).config.data
        dataset = api.load_dataset(data.dataset, data.root)
    except Exception as error:   # noqa: BLE001 — a dataset that cannot be read only disables two colourings
        log.info("no cameras / splits for the gap view of %s: %s", run_dir, error)
        return {}
    facts: dict[str, dict] = {}
    for split in ("train", "query", "gallery"):
        for sample in dataset.split(split):
            path = str(sample.path)
            if path in wanted and path not in facts:
                facts[path] = {"camera": int(sample.camid), "split": split}
    return facts
