"""Reusable widgets: image strips, plots, CAM overlays, log view, error banner."""
