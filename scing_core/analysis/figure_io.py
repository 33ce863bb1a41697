"""Shared figure helpers for the analysis modules: one paper style, column widths, PNG + PDF output.

Every analysis figure (saliency grid, modality gap, robustness curves) is built with
``paper_style()`` active, sized in inches against ``COLUMN_WIDTH_IN`` / ``DOUBLE_COLUMN_IN`` (a
two-column paper such as the SCING paper), and written with ``save_figure(fig, out_path)``, which
writes the PNG (for the GUI and README) and a vector PDF (for the paper) next to each other,
atomically, and closes the figure.

Matplotlib is imported with the non-interactive Agg backend so the core never needs a display; the
analysis modules take ``plt`` from here, so that the backend is chosen before pyplot loads.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402  (backend must be chosen first)
from matplotlib.figure import Figure  # noqa: E402

from scing_core.atomic import atomic_open  # noqa: E402
from scing_core.errors import InputError  # noqa: E402

log = logging.getLogger(__name__)
# matplotlib's PDF backend subsets fonts with fontTools, which logs every step at INFO
logging.getLogger("fontTools").setLevel(logging.WARNING)

COLUMN_WIDTH_IN = 3.5  # one column of a two-column paper
DOUBLE_COLUMN_IN = 7.0  # full text width
PNG_DPI = 300

PAPER_RC: dict[str, object] = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "legend.frameon": False,
    "axes.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "xtick.major.size": 2.5,
    "ytick.major.size": 2.5,
    "lines.linewidth": 1.2,
    "lines.markersize": 3.5,
    "grid.linewidth": 0.4,
    "grid.alpha": 0.4,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.02,
    "pdf.fonttype": 42,  # embed TrueType: text stays editable and searchable in the PDF
    "ps.fonttype": 42,
    "image.interpolation": "nearest",
}

# Colour-blind-safe qualitative palette (Okabe & Ito), in a fixed order so a method keeps its colour.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")


@contextlib.contextmanager
def paper_style() -> Iterator[None]:
    """Context manager: matplotlib rc parameters of the house paper style (restored on exit)."""
    with plt.rc_context(PAPER_RC):
        yield


def new_figure(width_in: float = COLUMN_WIDTH_IN, height_in: float | None = None) -> Figure:
    """A figure of the given width (inches) and height (default: golden-ratio of the width)."""
    height = height_in if height_in is not None else width_in / 1.618
    return plt.figure(figsize=(width_in, height))


def save_figure(fig: Figure, out_path: str | os.PathLike, *, dpi: int = PNG_DPI, close: bool = True) -> Path:
    """Write ``fig`` as PNG and PDF next to each other and return the PNG path.

    ``out_path`` may end in ``.png``, ``.pdf`` or have no suffix; both files are written with the same
    stem (``fig.png`` -> ``fig.png`` + ``fig.pdf``). Each file goes to a temporary name first and is
    moved into place with ``os.replace``, so an existing figure is never left half-written. Parent
    folders are created. The figure is closed afterwards unless ``close=False``.
    """
    out = Path(out_path).expanduser()
    if out.suffix.lower() not in ("", ".png", ".pdf"):
        raise InputError(f"figure path {out}: unsupported suffix {out.suffix!r}; "
                         "use .png or .pdf (both are written)")
    png_path = out.with_suffix(".png")
    png_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        for path, fmt in ((png_path, "png"), (png_path.with_suffix(".pdf"), "pdf")):
            _save_atomic(fig, path, fmt, dpi)
    finally:
        if close:
            plt.close(fig)
    log.info("wrote figure %s (+ .pdf)", png_path)
    return png_path


def _save_atomic(fig: Figure, path: Path, fmt: str, dpi: int) -> None:
    with atomic_open(path, "wb") as handle:
        fig.savefig(handle, format=fmt, dpi=dpi)
