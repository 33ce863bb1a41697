"""The Retrieval panel's header texts: an eval's metrics and how a compared run differs."""

from __future__ import annotations

import math


def describe_comparison(comparison: dict) -> str:
    """'vs clipreid: better on 40, worse on 31 of 159 queries · mean ΔAP −1.4 points'."""
    if not comparison.get("compared"):
        return ""
    return (f"vs {comparison['reference']}: better on {comparison['better']}, worse on {comparison['worse']} of "
            f"{comparison['compared']} queries · mean ΔAP {100 * comparison['mean_delta']:+.1f} points")


def describe_summary(summary: dict) -> str:
    """One line for the panel header: 'mAP 61.2 · R1 80.0 · R5 … · 199 queries (3 skipped) · 40 failures'."""
    def pct(value):
        return "—" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{100 * value:.1f}"

    text = " · ".join(f"{name} {pct(summary.get(name))}" for name in ("mAP", "R1", "R5", "R10"))
    text += f" · {summary['num_query']} queries"
    if summary.get("num_skipped"):
        text += f" ({summary['num_skipped']} without a true match, skipped)"
    text += f" · {summary['num_gallery']} gallery · {summary['num_failures']} rank-1 failures"
    return text
