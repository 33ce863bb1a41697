"""SCING Studio core: datasets, models, training, evaluation and analysis for CLIP-based person ReID.

Headless by design: nothing in this package imports Qt. The GUI talks to it through
:mod:`scing_core.api` only.
"""

__version__ = "0.1.0"
