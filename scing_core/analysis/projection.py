"""2-D projections of embeddings for plots: UMAP (umap-learn, cosine metric) and a fast PCA fallback.

umap-learn compiles its numba kernels on first use (15-40 s on a laptop CPU). This module

- points numba's on-disk cache at the user cache (``NUMBA_CACHE_DIR``, default
  ``~/.cache/scing-studio/numba``; an existing ``NUMBA_CACHE_DIR`` is kept) before umap is imported,
  so the compilation is paid once per machine, never inside the repository or site-packages;
- offers :func:`warm_up_umap`, a tiny fit the GUI can start in a background thread when it opens;
- serialises fits with a module-level lock: two UMAP fits (or a fit and the warm-up) never run at
  the same time, whichever thread asks.

PCA (numpy SVD) needs no compilation and is exact and deterministic; the tests use it by default.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import warnings

import numpy as np

from scing_core.errors import InputError
from scing_core.paths import user_cache_dir

log = logging.getLogger(__name__)

PROJECTIONS = ("umap", "pca", "tsne")
GAP_PROJECTIONS = ("pca", "umap", "tsne")   # the order the studio offers them in
DEFAULT_NEIGHBOURS = 15

_FIT_LOCK = threading.Lock()  # one UMAP fit at a time, process-wide
_STATE_LOCK = threading.Lock()  # guards the two fields below
_warm_thread: threading.Thread | None = None
_warmed = False


def configure_numba_cache() -> str:
    """Set ``NUMBA_CACHE_DIR`` to a writable user-cache folder (unless already set) and return it.

    Must run before numba compiles anything; if numba is already imported its config is reloaded.
    """
    folder = os.environ.get("NUMBA_CACHE_DIR") or str(user_cache_dir() / "numba")
    os.environ["NUMBA_CACHE_DIR"] = folder
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as error:  # a read-only home: numba then compiles in memory only
        log.warning("cannot create the numba cache folder %s (%s); UMAP will recompile each session", folder, error)
    numba = sys.modules.get("numba")
    if numba is not None and getattr(numba.config, "CACHE_DIR", None) != folder:
        numba.core.config.reload_config()
    return folder


configure_numba_cache()


def pca_2d(points: np.ndarray) -> np.ndarray:
    """The first two principal-component coordinates (n, 2) of ``points`` (n, d), exact.

    Signs are fixed (each component's largest loading is positive) so the result does not depend on
    the SVD implementation. Missing components (n < 3 or d < 2) come out as zeros.
    """
    data = _checked_points(points)
    centred = data - data.mean(axis=0, keepdims=True)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    components = components[:2]
    pivots = np.argmax(np.abs(components), axis=1)
    components = components * np.sign(components[np.arange(len(components)), pivots])[:, None]
    coords = centred @ components.T
    if coords.shape[1] < 2:
        coords = np.hstack([coords, np.zeros((len(coords), 2 - coords.shape[1]))])
    return coords.astype(np.float64)


def umap_2d(points: np.ndarray, seed: int = 0, metric: str = "cosine",
            n_neighbors: int = DEFAULT_NEIGHBOURS, min_dist: float = 0.1) -> np.ndarray:
    """UMAP coordinates (n, 2) of ``points`` (n, d); reproducible for a given ``seed``.

    Holds the module lock for the whole fit (waits for a running warm-up or fit first).
    """
    data = _checked_points(points)
    if len(data) < 4:
        raise InputError(f"UMAP needs at least 4 points, got {len(data)}; use the PCA projection for so few")
    neighbours = max(2, min(int(n_neighbors), len(data) - 1))
    with _FIT_LOCK:
        reducer = _umap_class()(n_components=2, n_neighbors=neighbours, min_dist=min_dist, metric=metric,
                                random_state=int(seed), init="spectral" if len(data) > neighbours + 2 else "random")
        with warnings.catch_warnings():
            # random_state disables parallelism (expected); tiny inputs trigger spectral-init notes
            warnings.simplefilter("ignore", UserWarning)
            coords = reducer.fit_transform(data)
    _mark_warmed()
    return np.asarray(coords, dtype=np.float64)


def tsne_2d(points: np.ndarray, seed: int = 0) -> np.ndarray:
    """scikit-learn's t-SNE (cosine metric, PCA init, perplexity min(30, (n - 1) / 3)), seeded."""
    points = _checked_points(points)
    if len(points) < 5:
        raise InputError(f"t-SNE needs at least 5 points, got {len(points)}; use the PCA projection for so few")
    try:
        from sklearn.manifold import TSNE   # here: scikit-learn takes ~1 s to load; `scing gap --help` imports this module
    except ImportError as error:
        raise InputError("the t-SNE projection needs scikit-learn (installed with umap-learn: pip install "
                         "'scing-studio[analysis]'); or use the PCA projection") from error
    perplexity = float(min(30.0, (len(points) - 1) / 3))
    return TSNE(n_components=2, perplexity=perplexity, metric="cosine", init="pca", random_state=int(seed)
                ).fit_transform(points).astype(np.float64)


def project_points(points: np.ndarray, method: str = "umap", seed: int = 0) -> np.ndarray:
    """``points`` (n, d) -> (n, 2) with ``method`` ``umap`` (cosine metric), ``pca`` or ``tsne``."""
    if method == "umap":
        return umap_2d(points, seed=seed)
    if method == "pca":
        return pca_2d(points)
    if method == "tsne":
        return tsne_2d(points, seed=seed)
    raise InputError(f"unknown projection '{method}'; use one of {', '.join(PROJECTIONS)}")


def project_pairs_2d(image_emb, text_emb, method: str = "umap", seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(image_xy, text_xy)``: ONE joint 2-D projection of paired embeddings (rows L2-normalised; a
    text row repeated over an identity's images is projected once, so it lands on one point). Plain
    arrays in and out: a separate process (the studio's) runs it without loading torch."""
    images, texts = (np.asarray(a, dtype=np.float64) for a in (image_emb, text_emb))
    images, texts = (a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12) for a in (images, texts))
    unique_texts, text_index = np.unique(texts, axis=0, return_inverse=True)
    coords = project_points(np.vstack([images, unique_texts]), method=method, seed=seed)
    return coords[:len(images)], coords[len(images):][np.ravel(text_index)]


def warm_up_umap(background: bool = True) -> threading.Thread | None:
    """Compile umap-learn's numba kernels with a tiny fit, once per process.

    ``background=True`` starts (or returns the already running) daemon thread and returns it at once;
    ``background=False`` runs the fit in the caller's thread and returns None. Does nothing (returns
    None) once a fit has completed in this process. Errors are logged, never raised, from the thread.
    """
    global _warm_thread
    with _STATE_LOCK:
        if _warmed:
            return None
        if _warm_thread is not None and _warm_thread.is_alive():
            return _warm_thread if background else _join(_warm_thread)
        if background:
            _warm_thread = threading.Thread(target=_warm_up_quietly, name="umap-warm-up", daemon=True)
            _warm_thread.start()
            return _warm_thread
    _warm_up_fit()
    return None


def umap_is_warm() -> bool:
    """True once a UMAP fit (warm-up or real) has completed in this process."""
    return _warmed


def _warm_up_fit() -> None:
    points = np.random.default_rng(0).normal(size=(24, 8))
    log.info("compiling UMAP (numba cache: %s)", os.environ.get("NUMBA_CACHE_DIR"))
    umap_2d(points, seed=0, n_neighbors=5)


def _warm_up_quietly() -> None:
    try:
        _warm_up_fit()
    except Exception:  # a background thread has nobody to raise to
        log.exception("UMAP warm-up failed; the first UMAP projection will compile instead")


def _join(thread: threading.Thread) -> None:
    thread.join()
    return None


def _mark_warmed() -> None:
    global _warmed
    with _STATE_LOCK:
        _warmed = True


def _umap_class():
    try:
        from umap import UMAP   # here: umap-learn (numba) takes seconds to load; `scing gap --help` imports this module
    except ImportError as error:
        raise InputError("the UMAP projection needs umap-learn (pip install 'scing-studio[analysis]'); "
                         "or use the PCA projection") from error
    return UMAP


def _checked_points(points) -> np.ndarray:
    data = np.asarray(points, dtype=np.float64)
    if data.ndim != 2 or len(data) < 2:
        raise InputError(f"a 2-D projection needs an (n, d) array with n >= 2, got shape {data.shape}")
    if not np.isfinite(data).all():
        raise InputError("cannot project embeddings that contain NaN or infinite values")
    return data
