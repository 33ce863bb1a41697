"""Imports in a worker thread that leave the GUI thread running while shared libraries load.

An import holds the GIL; loading a C extension or a library through ``ctypes.CDLL`` holds it through
the whole ``dlopen`` — relocations and static initialisers of libraries of hundreds of MB (torch and
the CUDA libraries it loads): 0.2–0.5 s during which the window can neither paint nor answer.
:func:`dlopen_without_gil` makes those ``dlopen`` calls through a ctypes foreign call, which releases
the GIL: the library is loaded there, and the import's own ``dlopen`` of it afterwards only finds it
loaded. What an import runs in Python still switches threads every few ms as usual.

Linux only (elsewhere a plain import). The patch is process-wide while it lasts; it changes how a
library is loaded, never which one or with which flags.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.machinery
import os
import sys
import threading

_lock = threading.Lock()


def _libc_dlopen():
    libc = ctypes.CDLL(None)
    dlopen = libc.dlopen
    dlopen.restype, dlopen.argtypes = ctypes.c_void_p, [ctypes.c_char_p, ctypes.c_int]
    libc.dlerror.restype = ctypes.c_char_p
    return dlopen, libc.dlerror


@contextlib.contextmanager
def dlopen_without_gil():
    """While inside: ``ctypes.CDLL`` and C-extension imports load their library with the GIL released."""
    if not sys.platform.startswith("linux") or not hasattr(ctypes, "_dlopen"):
        yield
        return
    dlopen, dlerror = _libc_dlopen()
    now = getattr(os, "RTLD_NOW", 2)

    def ctypes_dlopen(name, mode=ctypes.DEFAULT_MODE):   # what _ctypes.dlopen does: mode | RTLD_NOW
        handle = dlopen(os.fsencode(name) if name is not None else None, mode | now)
        if not handle:
            raise OSError((dlerror() or b"dlopen failed").decode("utf-8", errors="replace"))
        return handle

    loader = importlib.machinery.ExtensionFileLoader
    create_module = loader.create_module

    def create_extension(self, spec):   # load the library first (no GIL), then import it as usual
        if spec.origin:
            dlopen(os.fsencode(spec.origin), sys.getdlopenflags())
        return create_module(self, spec)

    with _lock:
        original = ctypes._dlopen
        ctypes._dlopen, loader.create_module = ctypes_dlopen, create_extension
        try:
            yield
        finally:
            ctypes._dlopen, loader.create_module = original, create_module
