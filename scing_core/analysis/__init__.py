"""Analysis: efficiency (parameters / FLOPs / latency per method), saliency, modality gap, robustness.

Modules are imported directly (``scing_core.analysis.efficiency``) so that using one does not pull
in the optional dependencies of the others.
"""
