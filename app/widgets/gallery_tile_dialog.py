"""The enlarged view of a gallery tile: the query and the gallery image side by side, large, with the
gallery image's file, identity, camera, rank and distance, and the tile's actions."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QPushButton, QVBoxLayout

from app.state.gallery_tile import rank_text
from app.widgets.image_strip import KIND_COLORS
from app.widgets.images import missing_pixmap
from app.widgets.layout import hbox, vbox

LARGE = QSize(192, 384)


def large_pixmap(path: str, size: QSize = LARGE) -> QPixmap:
    """The image scaled to ``size`` (aspect kept, enlarged if small); a 'missing' tile if unreadable."""
    image = QImage(str(path))
    if image.isNull():
        return missing_pixmap(size)
    return QPixmap.fromImage(image.scaled(size, Qt.AspectRatioMode.KeepAspectRatio,
                                          Qt.TransformationMode.SmoothTransformation))


def framed_image(path: str, color: str, title: str):
    """A caption over the large image in a border of ``color`` (a layout)."""
    label = QLabel()
    label.setPixmap(large_pixmap(path))
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setStyleSheet(f"border: 5px solid {color}; background: #F4F4F4;")
    label.setToolTip(str(path))
    caption = QLabel(title)
    caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
    return vbox(caption, label)


class GalleryTileDialog(QDialog):
    """Non-modal; ``makeQueryRequested`` / ``saliencyRequested`` carry the ``GalleryTile``."""

    makeQueryRequested = Signal(object)
    saliencyRequested = Signal(object)

    def __init__(self, tile, eval_name: str, parent=None) -> None:
        super().__init__(parent)
        self.tile = tile
        self.setWindowTitle(f"{tile.run_name} · {rank_text(tile.hit)} · {tile.hit.path.rsplit('/', 1)[-1]}")
        images = hbox(framed_image(tile.query.path, KIND_COLORS["query"], "<b>query</b>"),
                      framed_image(tile.path, KIND_COLORS.get(tile.hit.kind, "#444"),
                                   f"<b>gallery</b> · {rank_text(tile.hit)} in {tile.run_name}"), margins=None)
        form = QFormLayout()
        for label, value in tile.details():
            text = QLabel(value)
            text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            text.setWordWrap(True)
            form.addRow(f"<b>{label}</b>", text)
        self.make_query_button = QPushButton("Make it the query")
        self.make_query_button.setEnabled(tile.can_become_query)
        self.make_query_button.setToolTip("" if tile.can_become_query else tile.why_not_a_query(eval_name))
        self.make_query_button.clicked.connect(lambda: self.makeQueryRequested.emit(self.tile))
        self.saliency_button = QPushButton("Explain the pair in Saliency →")
        self.saliency_button.setToolTip("Grad-CAM of the query and this image, each explained by its similarity "
                                        "to the other (the Saliency tab's pair target)")
        self.saliency_button.clicked.connect(lambda: self.saliencyRequested.emit(self.tile))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        note = QLabel("" if tile.can_become_query else tile.why_not_a_query(eval_name))
        note.setWordWrap(True)
        note.setStyleSheet("color: #666;")
        layout = QVBoxLayout(self)
        layout.addLayout(hbox(images, (vbox(form, note), 1), margins=None))
        layout.addLayout(hbox(self.make_query_button, self.saliency_button, (buttons, 1)))
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
