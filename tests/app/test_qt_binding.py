"""The Qt binding keeps None's reference count: PySide6 6.12.0 drops a reference to None on every call
of a method that returns nothing, and on Python 3.11 the studio then aborts ("none_dealloc") after
some thousand paints. pyproject.toml excludes that release; this test catches any other that does it."""

from __future__ import annotations

import sys

from PySide6.QtCore import QPointF
from PySide6.QtGui import QPainter, QPen, QPicture


def test_void_qt_calls_do_not_drain_nones_reference_count(qapp):
    picture = QPicture()
    painter = QPainter(picture)
    try:
        before = sys.getrefcount(None)
        for _ in range(2000):
            painter.setPen(QPen())
            painter.drawLine(QPointF(0, 0), QPointF(1, 1))
        lost = before - sys.getrefcount(None)
    finally:
        painter.end()
    assert lost < 100, (f"this PySide6 drops {lost / 4000:.2f} references to None per call: the studio would "
                        "abort with 'none_dealloc'; install another PySide6 release (see pyproject.toml)")
