"""A query switch in the retrieval browser stays interactive on a Market-1501-sized eval: 3,368 queries x
15,913 gallery images, stored top-100 lists, compared with a second run (two ranked strips).

The eval folders are synthetic (random features and rankings, the format of
``scing_core/evaluation/artifacts.py``); the images are a dozen 64x128 JPEGs hard-linked under
Market-style names, so thumbnails are really decoded.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

NUM_QUERY, NUM_GALLERY, TOPK, NUM_IDS, NUM_CAMS = 3368, 15913, 100, 750, 6
DATASET = "market1501@market1501"


def _write_images(folder: Path, names: list[str], sources: list[Path]) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, name in enumerate(names):
        path = folder / name
        os.link(sources[i % len(sources)], path)
        paths.append(str(path))
    return paths


def _source_images(folder: Path, count: int = 12) -> list[Path]:
    from PySide6.QtGui import QColor, QImage

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    sources = []
    for i in range(count):
        image = QImage(64, 128, QImage.Format.Format_RGB32)
        image.fill(QColor(*(int(v) for v in rng.integers(40, 220, 3))))
        path = folder / f"source_{i}.jpg"
        assert image.save(str(path), "JPG")
        sources.append(path)
    return sources


def _market_names(pids, camids, start: int) -> list[str]:
    return [f"{pid:04d}_c{cam + 1}s1_{start + i:06d}_00.jpg" for i, (pid, cam) in enumerate(zip(pids, camids))]


def _unique_topk(rng, rows: int) -> np.ndarray:
    """Distinct gallery indices per row (an arithmetic progression modulo the gallery size)."""
    strides = [s for s in range(101, 2000) if math.gcd(s, NUM_GALLERY) == 1][:64]
    offsets = rng.integers(0, NUM_GALLERY, rows)
    steps = rng.choice(strides, rows)
    return (offsets[:, None] + np.arange(TOPK)[None, :] * steps[:, None]) % NUM_GALLERY


def _write_eval(folder: Path, query: dict, gallery: dict, seed: int) -> None:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "query_features.npy", rng.standard_normal((NUM_QUERY, 64)).astype(np.float32))
    np.save(folder / "gallery_features.npy", rng.standard_normal((NUM_GALLERY, 64)).astype(np.float32))
    for name, labels in (("query.json", query), ("gallery.json", gallery)):
        (folder / name).write_text(json.dumps(labels))
    indices = _unique_topk(rng, NUM_QUERY)
    distances = np.sort(rng.uniform(0.1, 0.9, (NUM_QUERY, TOPK)).astype(np.float32), axis=1)
    qp, qc = np.array(query["pids"]), np.array(query["camids"])
    gp, gc = np.array(gallery["pids"]), np.array(gallery["camids"])
    junk = (gp[indices] == qp[:, None]) & (gc[indices] == qc[:, None])
    np.save(folder / "topk_indices.npy", indices.astype(np.int64))
    np.save(folder / "topk_distances.npy", distances)
    np.save(folder / "topk_junk.npy", junk)
    first_hit = rng.integers(-1, 30, NUM_QUERY)
    ap = np.where(first_hit < 0, np.nan, rng.uniform(0.0, 1.0, NUM_QUERY))
    np.savez(folder / "per_query.npz", ap=ap, first_hit=first_hit)
    cmc = np.clip(np.linspace(0.8, 1.0, 50), 0, 1).tolist()
    metrics = {"mAP": float(np.nanmean(ap)), "R1": cmc[0], "R5": cmc[4], "R10": cmc[9], "cmc": cmc,
               "num_query": NUM_QUERY, "num_gallery": NUM_GALLERY, "num_valid": int((first_hit >= 0).sum()),
               "topk": TOPK}
    (folder / "metrics.json").write_text(json.dumps(metrics))


def build_market_sized_workspace(root: Path, runs=("scing", "clipreid")) -> list[Path]:
    """``root/runs/<run>/eval/market1501@market1501`` per run; returns the run directories."""
    rng = np.random.default_rng(1)
    sources = _source_images(root / "sources")
    query_pids, query_cams = rng.integers(1, NUM_IDS + 1, NUM_QUERY), rng.integers(0, NUM_CAMS, NUM_QUERY)
    gallery_pids, gallery_cams = rng.integers(0, NUM_IDS + 1, NUM_GALLERY), rng.integers(0, NUM_CAMS, NUM_GALLERY)
    query = {"paths": _write_images(root / "data" / "query", _market_names(query_pids, query_cams, 0), sources),
             "pids": query_pids.tolist(), "camids": query_cams.tolist()}
    gallery = {"paths": _write_images(root / "data" / "bounding_box_test",
                                      _market_names(gallery_pids, gallery_cams, NUM_QUERY), sources),
               "pids": gallery_pids.tolist(), "camids": gallery_cams.tolist()}
    run_dirs = []
    for seed, run in enumerate(runs):
        _write_eval(root / "runs" / run / "eval" / DATASET, query, gallery, seed)
        run_dirs.append(root / "runs" / run)
    return run_dirs


@pytest.fixture(scope="module")
def market_runs(tmp_path_factory, qapp):
    return build_market_sized_workspace(tmp_path_factory.mktemp("market"))


def open_market_panel(qtbot, run_dirs):
    """A shown RetrievalPanel browsing the first run, compared with the second (both loaded)."""
    from app.panels.retrieval_panel import RetrievalPanel

    panel = RetrievalPanel()
    qtbot.addWidget(panel)
    panel.resize(1440, 860)
    panel.show()
    panel.set_runs([SimpleNamespace(path=path) for path in run_dirs])
    qtbot.waitUntil(lambda: panel.state is not None and panel.state.selected is not None, timeout=120000)
    assert panel.compare_with(run_dirs[1])
    qtbot.waitUntil(lambda: panel.state.reference is not None, timeout=120000)
    return panel


def measure_switches(panel, qtbot, k: int, rows: list[int]) -> tuple[list[float], list[float]]:
    """Per query switch: GUI-thread wall time of the selection itself, and GUI-thread CPU time until
    every thumbnail of both strips is drawn (the decoding runs on the thumbnail pool)."""
    panel.k_spin.setValue(k)
    ready = lambda: panel.strip.images_ready() and panel.versus_strip.images_ready() and panel.matches.images_ready()  # noqa: E731
    qtbot.waitUntil(ready, timeout=30000)
    switch, total = [], []
    for r in rows:
        cpu = time.thread_time()
        start = time.perf_counter()
        panel.table.selectRow(r)
        switch.append(time.perf_counter() - start)
        qtbot.waitUntil(ready, timeout=30000)
        total.append(time.thread_time() - cpu)
        assert panel.state.selected == panel.model.rows[r].index and len(panel.strip.tiles) == k
    return switch, total


def test_query_switches_fill_both_ranked_strips_on_a_market_sized_eval(market_runs, qtbot):
    """Every switch selects its query and draws k tiles in both strips. How long it takes is measured by
    benchmarks/bench_studio.py (target: 100 ms of GUI time), not asserted here: timings belong in benchmarks."""
    panel = open_market_panel(qtbot, market_runs)
    assert panel.state.num_queries == NUM_QUERY and len(panel.state.gallery_paths) == NUM_GALLERY
    rows = [int(r) for r in np.linspace(1, NUM_QUERY - 1, 12)]
    for k in (10, 100):
        switch, total = measure_switches(panel, qtbot, k, rows)
        assert len(panel.versus_strip.tiles) == k
        assert len(switch) == len(total) == len(rows) and all(math.isfinite(t) for t in switch + total)
