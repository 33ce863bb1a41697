"""Model selection: which checkpoint a run reports (``model_selection`` in the config).

- ``final`` (default): the last epoch, as the paper and CLIP-ReID report. No ``best.pt`` is written;
  the evaluations during stage 2 only draw curves.
- ``test``: the evaluation with the best test-set mAP (``best.pt``). Optimistic — the test set chose
  the checkpoint — and labelled so wherever its numbers appear.
- ``val``: the best mAP on ``data.val_ids`` training identities held out from training
  (``scing_core.data.val_split``); the test set is evaluated only at the end.

``metrics.json`` records the choice under ``selection`` (mode, checkpoint, epoch, label); ``final``
holds the metrics of the reported checkpoint and, when that is not the last epoch, ``last_epoch``
those of the last one.
"""

from __future__ import annotations

from scing_core.config import TrainConfig
from scing_core.config.checks import CHOICES

SELECTION_MODES = CHOICES["model_selection"]


def selection_label(cfg: TrainConfig) -> str:
    """One line saying which checkpoint a run's numbers come from."""
    mode = cfg.model_selection
    if mode == "test":
        return "best test-set mAP during training (optimistic: the test set chose the checkpoint)"
    if mode == "val":
        return f"best mAP on {cfg.data.val_ids} training identities held out for validation"
    return "final epoch (as the paper and CLIP-ReID report)"


def selection_record(cfg: TrainConfig, epoch: int, score: float | None) -> dict:
    """``metrics.json``'s ``selection`` entry: ``epoch`` is 1-based (stage-2 epochs trained)."""
    record = {"mode": cfg.model_selection, "checkpoint": "best" if cfg.model_selection != "final" else "last",
              "epoch": int(epoch), "label": selection_label(cfg)}
    if cfg.model_selection != "final":
        record["split"] = cfg.model_selection
        record["mAP"] = score
    return record
