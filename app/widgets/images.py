"""Images for Qt: loading scaled thumbnails, numpy <-> QImage, and CAM overlays with a colour map."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap

# 'jet' as in Grad-CAM papers (paper Fig. 5): blue (cold) -> red (hot); a piecewise-linear table.
_JET_POINTS = np.array([[0.0, 0.0, 0.0, 0.5], [0.11, 0.0, 0.0, 1.0], [0.125, 0.0, 0.0, 1.0],
                        [0.34, 0.0, 0.85, 1.0], [0.35, 0.0, 0.9, 0.97], [0.65, 1.0, 1.0, 0.0],
                        [0.89, 1.0, 0.0, 0.0], [1.0, 0.5, 0.0, 0.0]])


@lru_cache(maxsize=1)
def jet_table() -> np.ndarray:
    """(256, 3) uint8 colour table."""
    t = np.linspace(0.0, 1.0, 256)
    table = np.stack([np.interp(t, _JET_POINTS[:, 0], _JET_POINTS[:, c]) for c in (1, 2, 3)], axis=1)
    return (table * 255).round().astype(np.uint8)


def colorize(values: np.ndarray, vmin: float = 0.0, vmax: float = 1.0) -> np.ndarray:
    """HxW floats -> HxWx3 uint8 through the jet table on the fixed range [vmin, vmax]."""
    scaled = np.clip((np.asarray(values, dtype=np.float32) - vmin) / max(vmax - vmin, 1e-12), 0.0, 1.0)
    return jet_table()[(scaled * 255).round().astype(np.int64)]


def overlay(image: np.ndarray, cam: np.ndarray, vmin: float = 0.0, vmax: float = 1.0, alpha: float = 0.5) -> np.ndarray:
    """Blend the colour-mapped CAM over an HxWx3 uint8 image (same size)."""
    heat = colorize(cam, vmin, vmax).astype(np.float32)
    blended = (1.0 - alpha) * np.asarray(image, dtype=np.float32)[..., :3] + alpha * heat
    return np.clip(blended, 0, 255).astype(np.uint8)


def qimage_from_array(array: np.ndarray) -> QImage:
    """HxWx3 uint8 -> QImage (a copy: the numpy buffer may be freed afterwards)."""
    data = np.ascontiguousarray(array[..., :3], dtype=np.uint8)
    height, width = data.shape[:2]
    return QImage(data.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


def load_pixmap(path, size: QSize) -> QPixmap:
    """The image scaled to fit ``size`` (smooth, aspect kept); a grey 'missing' tile if unreadable."""
    image = QImage(str(path))
    if image.isNull():
        return missing_pixmap(size)
    return QPixmap.fromImage(image.scaled(size, Qt.AspectRatioMode.KeepAspectRatio,
                                          Qt.TransformationMode.SmoothTransformation))


def missing_pixmap(size: QSize) -> QPixmap:
    pixmap = QPixmap(size)
    pixmap.fill(QColor("#DDDDDD"))
    painter = QPainter(pixmap)
    painter.setPen(QColor("#777777"))
    painter.drawText(pixmap.rect(), Qt.AlignmentFlag.AlignCenter, "missing")
    painter.end()
    return pixmap
