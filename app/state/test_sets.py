"""Which of a run's test sets the studio shows first: one rule for every panel.

A run evaluated on several test sets (the demo's ``synthped@synthped_occluded`` and ``synthped@synthped``)
lists them in the order it evaluated them, which differs between runs and presets. The studio shows
them sorted by label instead — the order of the run's eval folders (``api.eval_folders``), so the
holistic ``synthped@synthped`` comes before ``synthped@synthped_occluded``. Retrieval opens the first
eval folder; Training's table (the split its mAP / R1 columns report) and its overlaid evaluation
curves start from the same test set.
"""

from __future__ import annotations

import dataclasses

from app.state.runs import metric_number


def ordered_test_sets(labels) -> list[str]:
    """Test-set labels in the order the studio shows them (the first is shown by default)."""
    return sorted(labels)


def first_test_set(labels) -> str | None:
    """The test set shown by default (None when there is none)."""
    ordered = ordered_test_sets(labels)
    return ordered[0] if ordered else None


def on_first_test_set(row):
    """``row`` (an ``app.state.runs.RunRow``) reporting the first test set: its ``metrics_by_dataset`` in
    the studio's order, and ``mAP`` / ``R1`` (hence the split the table names) from the first one."""
    labels = ordered_test_sets(row.metrics_by_dataset)
    if labels == list(row.metrics_by_dataset):
        return row
    metrics = {label: row.metrics_by_dataset[label] for label in labels}
    first = metrics[labels[0]]
    return dataclasses.replace(row, mAP=metric_number(first.get("mAP")), R1=metric_number(first.get("R1")),
                               metrics_by_dataset=metrics)

