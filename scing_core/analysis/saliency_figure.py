"""The saliency grid (paper Fig. 5): rows = images, columns = the plain image then one per run.

Every overlay uses one colour map on one scale (each CAM is min-max normalised to [0, 1], so the
colours compare where each model looks, not the raw gradient magnitudes of different models) and
one colour bar. The person share (``P``) is printed in each overlay when a mask exists.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import NamedTuple

import numpy as np
from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize

from scing_core.analysis.figure_io import COLUMN_WIDTH_IN, DOUBLE_COLUMN_IN, new_figure, paper_style, save_figure
from scing_core.errors import InputError

CMAP = "jet"  # the colour map of Grad-CAM figures in the ReID literature
OVERLAY_ALPHA = 0.5
MAX_PANEL_WIDTH_IN = 0.8
ROW_LABEL_IN = 0.12  # room under each row for the person share


def overlay(image: np.ndarray, cam: np.ndarray, alpha: float = OVERLAY_ALPHA) -> np.ndarray:
    """``image`` (HxWx3 uint8) blended with ``cam`` (HxW in [0, 1]) through the colour map -> HxWx3 float."""
    if image.shape[:2] != cam.shape:
        raise InputError(f"image {image.shape[:2]} and CAM {cam.shape} sizes differ")
    colours = colormaps[CMAP](np.clip(cam, 0.0, 1.0))[..., :3]
    return (1.0 - alpha) * (image.astype(np.float64) / 255.0) + alpha * colours


def _checked_grid(results_by_run: dict) -> tuple[list[str], int]:
    runs = list(results_by_run)
    if not runs:
        raise InputError("saliency grid: no runs given")
    counts = {run: len(results_by_run[run]) for run in runs}
    if min(counts.values()) == 0 or len(set(counts.values())) != 1:
        raise InputError(f"saliency grid: every run needs results for the same images, got counts {counts}")
    first = results_by_run[runs[0]]
    for run in runs[1:]:
        for row, (a, b) in enumerate(zip(first, results_by_run[run])):
            if Path(a.path).resolve() != Path(b.path).resolve():
                raise InputError(f"saliency grid row {row + 1}: run '{run}' has {b.path} but '{runs[0]}' has {a.path}; "
                                 "compute every run on the same image list")
    return runs, counts[runs[0]]


def _row_label(path: str) -> str:
    stem = Path(path).stem
    parts = stem.split("_")
    if len(parts) >= 2 and parts[0].lstrip("-").isdigit() and parts[1].startswith("c"):
        return f"ID {int(parts[0])}\n{parts[1][:2]}"  # Market-style: identity and camera
    return stem if len(stem) <= 14 else stem[:13] + "…"


def _panel(ax, picture: np.ndarray, share: float | None = None) -> None:
    ax.imshow(picture, interpolation="bilinear")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    if share is not None:
        ax.set_xlabel("P –" if math.isnan(share) else f"P {share:.2f}", fontsize=6, labelpad=1.5)


class _Layout(NamedTuple):
    """Sizes in inches: panels in a grid, titles above, a horizontal colour bar and a key below."""

    panel_w: float
    panel_h: float
    share_h: float  # room under each overlay for its person share
    left: float = 0.42  # row labels
    top: float = 0.2  # column titles
    gap: float = 0.04
    bar_h: float = 0.07
    below: float = 0.55  # colour bar, its label and the key

    @property
    def row_h(self) -> float:
        return self.panel_h + self.share_h + self.gap

    def size(self, n_rows: int, n_cols: int) -> tuple[float, float]:
        return self.left + n_cols * (self.panel_w + self.gap) + 0.05, self.top + n_rows * self.row_h + self.below

    def panel(self, fig_h: float, row: int, col: int) -> tuple[float, float, float, float]:
        """matplotlib axes rectangle (in inches) of a grid cell: left, bottom, width, height."""
        x = self.left + col * (self.panel_w + self.gap)
        y = fig_h - self.top - row * self.row_h - self.panel_h
        return x, y, self.panel_w, self.panel_h


def _layout(n_cols: int, aspect: float, with_shares: bool) -> _Layout:
    """Panels as wide as fit a paper column (two columns for more than five), at most MAX_PANEL_WIDTH_IN."""
    width = COLUMN_WIDTH_IN if n_cols <= 5 else DOUBLE_COLUMN_IN
    panel_w = min(MAX_PANEL_WIDTH_IN, (width - 0.47) / n_cols - 0.04)
    return _Layout(panel_w, panel_w * aspect, ROW_LABEL_IN if with_shares else 0.0)


def _inches(rect, fig_w: float, fig_h: float) -> tuple[float, float, float, float]:
    x, y, w, h = rect
    return x / fig_w, y / fig_h, w / fig_w, h / fig_h


def grid_figure(results_by_run: dict, out_path) -> Path:
    """Draw ``{run name: [SaliencyResult per image]}`` as the grid and save PNG + PDF; returns the PNG path."""
    runs, n_rows = _checked_grid(results_by_run)
    first = results_by_run[runs[0]]
    height, width = first[0].cam.shape
    with_shares = any(r.person_share is not None for results in results_by_run.values() for r in results)
    layout = _layout(len(runs) + 1, height / width, with_shares)
    titles = [_wrap(run, layout.panel_w) for run in runs]
    layout = layout._replace(top=layout.top + 0.11 * max(t.count("\n") for t in titles))
    fig_w, fig_h = layout.size(n_rows, len(runs) + 1)
    with paper_style():
        fig = new_figure(fig_w, fig_h)
        for row in range(n_rows):
            ax = fig.add_axes(_inches(layout.panel(fig_h, row, 0), fig_w, fig_h))
            _panel(ax, first[row].image)
            ax.set_ylabel(_row_label(first[row].path), fontsize=6, rotation=0, ha="right", va="center", labelpad=3)
            if row == 0:
                ax.set_title("Image", fontsize=7, pad=3)
            for col, (run, title) in enumerate(zip(runs, titles), start=1):
                result = results_by_run[run][row]
                ax = fig.add_axes(_inches(layout.panel(fig_h, row, col), fig_w, fig_h))
                _panel(ax, overlay(result.image, result.cam), result.person_share)
                if row == 0:
                    ax.set_title(title, fontsize=7, pad=3)
        _colorbar(fig, layout, len(runs), fig_w, fig_h, first[0].method)
        if with_shares:
            fig.text(layout.left / fig_w, 0.02 / fig_h, _share_key(results_by_run), fontsize=6, va="bottom")
        return save_figure(fig, out_path)


def _colorbar(fig, layout: _Layout, n_runs: int, fig_w: float, fig_h: float, method: str) -> None:
    """A horizontal colour bar under the overlay columns (the plain-image column has no colours)."""
    x = layout.left + layout.panel_w + layout.gap
    y = layout.below - 0.08 - layout.bar_h
    span = max(n_runs * (layout.panel_w + layout.gap) - layout.gap, 1.2)
    bar = fig.add_axes(_inches((x, y, span, layout.bar_h), fig_w, fig_h))
    mappable = ScalarMappable(norm=Normalize(0.0, 1.0), cmap=CMAP)
    colorbar = fig.colorbar(mappable, cax=bar, orientation="horizontal", ticks=[0, 0.5, 1])
    colorbar.ax.tick_params(labelsize=6, width=0.5, length=2, pad=1)
    colorbar.outline.set_linewidth(0.5)
    colorbar.set_label(f"{_method_label(method)} (each map scaled to [0, 1])", fontsize=6, labelpad=1)


def _share_key(results_by_run: dict) -> str:
    shares = [r.person_share for results in results_by_run.values() for r in results if r.person_share is not None]
    key = "P: share of the saliency on the person mask"
    return key + ("; –: all-zero map" if any(math.isnan(s) for s in shares) else "")


def _wrap(title: str, panel_w: float, font_pt: float = 7.0) -> str:
    """A column title broken into lines that fit the panel width (about 0.55 em per character)."""
    chars = max(6, int(panel_w * 72 / (0.55 * font_pt)))
    return "\n".join(textwrap.wrap(title, chars, break_on_hyphens=False)) or title


def _method_label(method: str) -> str:
    names = {"gradcam": "Grad-CAM", "gradcam++": "Grad-CAM++", "xgradcam": "XGrad-CAM", "hirescam": "HiResCAM",
             "layercam": "LayerCAM", "eigencam": "Eigen-CAM", "eigengradcam": "EigenGrad-CAM",
             "gradcam-elementwise": "Grad-CAM (element-wise)"}
    return names.get(method, method)
