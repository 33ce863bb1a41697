"""SCING Studio desktop app (PySide6 + pyqtgraph). Talks to the core only through scing_core.api."""
