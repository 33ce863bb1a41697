"""Gallery thumbnails decoded off the GUI thread, kept in one cache the strips share.

A query switch asks for up to a few hundred thumbnails (two ranked lists of top-100 and the true
matches); decoding them on the GUI thread would freeze the browser. :class:`ThumbnailCache` hands
back what it holds at once and decodes the rest in small batches on its own thread pool; ``loaded``
tells the strips which images arrived. An unreadable or missing file becomes a null ``QImage``, which
tiles draw as 'missing'.
"""

from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import QObject, QSize, Qt, QThreadPool, Signal
from PySide6.QtGui import QImage, QImageReader

from app.services.workers import WorkerPool

CAPACITY = 2000     # thumbnails kept (a 64x128 image is 32 KiB)
BATCH = 12          # images per worker job: the first tiles show before the hundredth is decoded
THREADS = 2


def read_thumbnail(path: str, width: int, height: int) -> QImage:
    """The image scaled to fit width x height (aspect kept), ready to draw; a null image if unreadable."""
    reader = QImageReader(str(path))
    image = reader.read()
    if image.isNull():
        return QImage()
    fitted = image.size().scaled(QSize(width, height), Qt.AspectRatioMode.KeepAspectRatio)
    if fitted != image.size():
        image = image.scaled(fitted, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation)
    return image.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)


def read_thumbnails(paths: list[str], width: int, height: int) -> dict[str, QImage]:
    """Runs in a worker: every path's thumbnail."""
    return {path: read_thumbnail(path, width, height) for path in paths}


class ThumbnailCache(QObject):
    """``get`` answers from memory (None = not decoded yet); ``request`` decodes in the background and
    emits ``loaded(keys)`` with the ``(path, width, height)`` keys that arrived."""

    loaded = Signal(object)

    def __init__(self, capacity: int = CAPACITY, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.capacity = capacity
        self._images: OrderedDict[tuple[str, int, int], QImage] = OrderedDict()
        self._pending: set[tuple[str, int, int]] = set()
        pool = QThreadPool(self)
        pool.setMaxThreadCount(THREADS)
        self.workers = WorkerPool(self, pool)

    def get(self, path: str, size: QSize) -> QImage | None:
        key = (str(path), size.width(), size.height())
        image = self._images.get(key)
        if image is not None:
            self._images.move_to_end(key)
        return image

    def request(self, paths, size: QSize) -> None:
        """Decode the thumbnails of ``paths`` that are neither cached nor already on their way."""
        width, height = size.width(), size.height()
        wanted = []
        for path in dict.fromkeys(str(p) for p in paths):
            key = (path, width, height)
            if key not in self._images and key not in self._pending:
                self._pending.add(key)
                wanted.append(path)
        for start in range(0, len(wanted), BATCH):
            batch = wanted[start:start + BATCH]
            self.workers.start(read_thumbnails, batch, width, height,
                               on_result=lambda images, w=width, h=height: self._arrived(images, w, h),
                               on_error=lambda _message, batch=batch, w=width, h=height: self._arrived(
                                   {path: QImage() for path in batch}, w, h))

    def _arrived(self, images: dict, width: int, height: int) -> None:
        keys = []
        for path, image in images.items():
            key = (path, width, height)
            self._pending.discard(key)
            self._images[key] = image
            keys.append(key)
        while len(self._images) > self.capacity:
            self._images.popitem(last=False)
        self.loaded.emit(keys)

    @property
    def busy(self) -> bool:
        return bool(self._pending)


_shared: ThumbnailCache | None = None


def shared_thumbnails() -> ThumbnailCache:
    """The studio's one thumbnail cache (created on first use, after the QApplication)."""
    global _shared
    if _shared is None:
        _shared = ThumbnailCache()
    return _shared
