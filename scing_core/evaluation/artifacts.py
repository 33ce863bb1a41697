"""Evaluate extracted features and keep everything the GUI needs in an eval folder.

``save_eval_artifacts`` writes, each file atomically (temp file + ``os.replace``), ``metrics.json``
last so that its presence means the folder is complete::

    query_features.npy, gallery_features.npy   (N, F) float32
    query.json, gallery.json                   {"paths": [...], "pids": [...], "camids": [...]}
    topk_indices.npy      (num_query, k) int64   gallery indices, nearest first (ties: lower index)
    topk_distances.npy    (num_query, k) float32
    topk_junk.npy         (num_query, k) bool    same pid and camid as the query: ignored by the protocol
    per_query.npz         ap (NaN: no true match), first_hit (-1: no true match)
    metrics.json          mAP, R1, R5, R10, cmc, num_query, num_gallery, num_valid, topk, ...

``load_eval_artifacts`` reads it back without recomputing anything.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from scing_core.runs.layout import RunDir
from scing_core.atomic import atomic_open, write_json_atomic
from scing_core.errors import InputError, RunDirError
from scing_core.evaluation.distances import compute_distance
from scing_core.evaluation.features import FeatureSet
from scing_core.evaluation.metrics import RankResult, evaluate_rank
from scing_core.evaluation.reranking import Reranking, k_reciprocal_rerank
from scing_core.evaluation.validation import DEFAULT_CHUNK_BYTES, iter_row_chunks, rows_per_chunk

ARTIFACT_FILES = ("query_features.npy", "gallery_features.npy", "query.json", "gallery.json", "topk_indices.npy",
                  "topk_distances.npy", "topk_junk.npy", "per_query.npz", "metrics.json")
CORE_METRICS = ("mAP", "R1", "R5", "R10", "cmc", "num_query", "num_gallery", "num_valid", "topk")


@dataclass
class EvalArtifacts:
    """An eval folder loaded back: features and labels, top-k lists, per-query results, metrics."""

    directory: Path
    query: FeatureSet
    gallery: FeatureSet
    topk_indices: np.ndarray
    topk_distances: np.ndarray
    topk_junk: np.ndarray
    ap: np.ndarray
    first_hit: np.ndarray
    metrics: dict


def evaluate_features(query: FeatureSet, gallery: FeatureSet, metric: str = "cosine",
                      rerank: "bool | Reranking" = False, max_rank: int = 50, *,
                      device: str | torch.device | None = None) -> tuple[np.ndarray, RankResult]:
    """Distances (float32 numpy, num_query x num_gallery) and ranking metrics of two feature sets.

    ``metric`` is ``cosine`` or ``euclidean`` on L2-normalised features; with ``rerank`` the
    distances are k-reciprocal re-ranked ones instead (``True``: CLIP-ReID's k1 = 50, k2 = 15, lambda = 0.3;
    a :class:`Reranking` for others), which the re-ranking
    computes from squared Euclidean distances whatever ``metric`` says. ``device`` (default: the
    features' device) is where distances and metrics are computed.
    """
    qf, gf = query.features, gallery.features
    if device is not None:
        qf, gf = qf.to(device), gf.to(device)
    if rerank:
        params = rerank if isinstance(rerank, Reranking) else Reranking()
        distmat = k_reciprocal_rerank(qf, gf, k1=params.k1, k2=params.k2, lambda_value=params.lambda_value)
        ranked = torch.from_numpy(distmat).to(qf.device)
    else:
        ranked = compute_distance(qf, gf, metric=metric)
        distmat = ranked.cpu().numpy()
    result = evaluate_rank(ranked, query.pids, gallery.pids, query.camids, gallery.camids, max_rank=max_rank)
    return distmat, result


def topk_lists(distmat: Any, k: int, chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> tuple[np.ndarray, np.ndarray]:
    """``(indices, distances)`` of the ``k`` nearest gallery items per query, nearest first (ties: lower index)."""
    num_gallery = int(distmat.shape[1])
    k = min(int(k), num_gallery)
    indices = np.empty((int(distmat.shape[0]), k), dtype=np.int64)
    distances = np.empty((int(distmat.shape[0]), k), dtype=np.float32)
    for start, stop, rows in iter_row_chunks(distmat, rows_per_chunk(num_gallery, 16, chunk_bytes)):
        rows = rows.cpu().numpy() if isinstance(rows, torch.Tensor) else rows
        if k < num_gallery:  # candidates: any k smallest, then an exact (distance, index) order
            candidates = np.argpartition(rows, k - 1, axis=1)[:, :k]
        else:
            candidates = np.broadcast_to(np.arange(num_gallery), rows.shape)
        values = np.take_along_axis(rows, candidates, axis=1)
        order = np.lexsort((candidates, values), axis=1)
        indices[start:stop] = np.take_along_axis(candidates, order, axis=1)
        distances[start:stop] = np.take_along_axis(values, order, axis=1)
    return indices, distances


def save_eval_artifacts(out_dir: str | Path, query: FeatureSet, gallery: FeatureSet, distmat: Any,
                        result: RankResult, topk: int = 100, extra_metrics: dict | None = None) -> Path:
    """Write the eval folder described in the module doc into ``out_dir`` (created if needed)."""
    out = Path(out_dir)
    if tuple(distmat.shape) != (len(query), len(gallery)):
        raise InputError(f"distmat has shape {tuple(distmat.shape)} but there are {len(query)} queries and "
                         f"{len(gallery)} gallery images")
    if len(result.ap) != len(query):
        raise InputError(f"result has {len(result.ap)} per-query values but there are {len(query)} queries")
    clashes = sorted(set(extra_metrics or {}) & set(CORE_METRICS))
    if clashes:
        raise InputError(f"extra_metrics would overwrite {', '.join(clashes)}; rename those keys")
    out.mkdir(parents=True, exist_ok=True)
    indices, distances = topk_lists(distmat, topk)
    junk = (gallery.pids[indices] == query.pids[:, None]) & (gallery.camids[indices] == query.camids[:, None])
    for name, array in (("query_features.npy", query.features), ("gallery_features.npy", gallery.features),
                        ("topk_indices.npy", indices), ("topk_distances.npy", distances), ("topk_junk.npy", junk)):
        array = array.cpu().numpy() if isinstance(array, torch.Tensor) else array
        _write_atomic(out / name, lambda handle, array=array: np.save(handle, array))
    for name, features in (("query.json", query), ("gallery.json", gallery)):
        _write_json(out / name, {"paths": list(features.paths), "pids": features.pids.tolist(),
                                 "camids": features.camids.tolist()})
    _write_atomic(out / "per_query.npz", lambda handle: np.savez(handle, ap=result.ap, first_hit=result.first_hit))
    metrics = {"mAP": result.mAP, "R1": result.recall_at(1), "R5": result.recall_at(5), "R10": result.recall_at(10),
               "cmc": result.cmc.tolist(), "num_query": len(query), "num_gallery": len(gallery),
               "num_valid": result.num_valid, "topk": int(indices.shape[1]), **(extra_metrics or {})}
    _write_json(out / "metrics.json", metrics)
    return out


def load_eval_artifacts(directory: str | Path) -> EvalArtifacts:
    """Load an eval folder written by :func:`save_eval_artifacts` (nothing is recomputed)."""
    folder = Path(directory)
    if not folder.is_dir():
        raise RunDirError(f"eval folder {folder} does not exist; eval folders are RUN_DIR/eval/<dataset>, written by "
                          "`scing eval --run-dir RUN_DIR` (and at the end of `scing train`)")
    if RunDir.holds_run(folder):   # a run directory given instead of one of its eval folders
        run = RunDir.at(folder)
        evals = run.eval_folders()
        hint = (f"pass one of its eval folders: {', '.join(str(run.eval_dir(name)) for name in evals)}" if evals
                else f"it has no eval folder yet; run `scing eval --run-dir {folder}`")
        raise RunDirError(f"{folder} is a run directory, not an eval folder; {hint}")
    missing = [name for name in ARTIFACT_FILES if not (folder / name).is_file()]
    if missing:
        raise RunDirError(f"eval folder {folder} is incomplete: missing {', '.join(missing)}; "
                          "run `scing eval` on the run directory to (re)create it")
    query = _feature_set(folder, "query")
    gallery = _feature_set(folder, "gallery")
    per_query = _read(folder / "per_query.npz", _load_npz)
    artifacts = EvalArtifacts(
        directory=folder, query=query, gallery=gallery,
        topk_indices=_read(folder / "topk_indices.npy", np.load),
        topk_distances=_read(folder / "topk_distances.npy", np.load),
        topk_junk=_read(folder / "topk_junk.npy", np.load),
        ap=per_query.get("ap"), first_hit=per_query.get("first_hit"),
        metrics=_read(folder / "metrics.json", lambda path: json.loads(path.read_text(encoding="utf-8"))),
    )
    _check_consistent(artifacts)
    return artifacts


def _feature_set(folder: Path, split: str) -> FeatureSet:
    labels = _read(folder / f"{split}.json", lambda path: json.loads(path.read_text(encoding="utf-8")))
    features = _read(folder / f"{split}_features.npy", np.load)
    try:
        return FeatureSet(torch.from_numpy(np.asarray(features, dtype=np.float32)),
                          np.asarray(labels["pids"], dtype=np.int64), np.asarray(labels["camids"], dtype=np.int64),
                          [str(path) for path in labels["paths"]])
    except (KeyError, TypeError, ValueError, InputError) as error:
        raise RunDirError(f"{folder / (split + '.json')} does not match {split}_features.npy ({error}); "
                          "run `scing eval` again to rewrite the eval folder")


def _check_consistent(artifacts: EvalArtifacts) -> None:
    num_query = len(artifacts.query)
    shapes = {"topk_indices.npy": artifacts.topk_indices.shape, "topk_distances.npy": artifacts.topk_distances.shape,
              "topk_junk.npy": artifacts.topk_junk.shape}
    bad = [f"{name} {shape}" for name, shape in shapes.items() if len(shape) != 2 or shape[0] != num_query]
    bad += [f"per_query.npz:{key}" for key in ("ap", "first_hit") if getattr(artifacts, key) is None
            or len(getattr(artifacts, key)) != num_query]
    if len({shape for shape in shapes.values()}) != 1 or bad:
        raise RunDirError(f"eval folder {artifacts.directory} is inconsistent ({num_query} queries; "
                          f"{', '.join(bad) or 'top-k arrays differ in shape'}); run `scing eval` again")


def _load_npz(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as archive:
        return {name: archive[name] for name in archive.files}


def _read(path: Path, reader: Callable[[Path], Any]) -> Any:
    try:
        return reader(path)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise RunDirError(f"cannot read {path} ({error}); run `scing eval` again to rewrite it")


def _write_json(path: Path, payload: dict) -> None:
    write_json_atomic(path, payload, allow_nan=True)


def _write_atomic(path: Path, write: Callable[[Any], Any]) -> None:
    """Write ``path`` through ``write(binary handle)``, atomically (:mod:`scing_core.atomic`)."""
    with atomic_open(path, "wb") as handle:
        write(handle)
