"""PDCA in stage 1, decided once: whether it runs (:func:`pdca_enabled`, from ``loss.lambda_con``)
and, when it does, the perturbed views each step compares (:class:`PdcaViews`).

Each step compares the text features of an image's original view with those of two distinct views
of the current bank (``feature_cache.ViewBank``); the bank is drawn anew every
``perturb.refresh_every`` epochs and PDCA's feature dropout (``perturb.feature_dropout``) is applied
per step. Without PDCA no perturbed view is encoded at all.
"""

from __future__ import annotations

from typing import Callable

import torch

from scing_core.engine.feature_cache import ViewBank
from scing_core.errors import ConfigError
from scing_core.models import ImageFeatures


def pdca_enabled(cfg, model) -> bool:
    """Whether stage 1 runs PDCA; a ConfigError when ``loss.lambda_con > 0`` cannot be honoured by the
    method (the config's own rules, e.g. two views per image, are checked when it resolves)."""
    if cfg.loss.lambda_con <= 0:
        return False
    if not model.uses_condition:
        raise ConfigError(
            f"loss.lambda_con={cfg.loss.lambda_con} asks for PDCA, but method '{cfg.model.method}' does not condition "
            "its prompts on the image; use model.method=scing (or cocoop), or set loss.lambda_con=0")
    return True


class PdcaViews:
    """The view bank of the current refresh period and the view pairs drawn from it.

    Args:
        encode: ``period -> ViewBank`` (``feature_cache.encode_view_bank`` bound to the run).
        refresh_every: epochs per bank (0 = one bank for the whole stage).
        dropout: PDCA's feature-dropout probability.
    """

    def __init__(self, encode: Callable[[int], ViewBank], refresh_every: int, dropout: float) -> None:
        self.encode, self.refresh_every, self.dropout = encode, refresh_every, dropout
        self.bank: ViewBank | None = None

    def period(self, epoch: int) -> int:
        """The bank epoch ``epoch`` uses: ``epoch // refresh_every`` (0 = never refreshed)."""
        return epoch // self.refresh_every if self.refresh_every > 0 else 0

    def start_epoch(self, epoch: int) -> None:
        """Draw the epoch's bank unless the current one is already it."""
        if self.bank is None or self.bank.period != self.period(epoch):
            self.bank = None  # free the old bank before encoding the next
            self.bank = self.encode(self.period(epoch))

    def pair(self, model, idx: torch.Tensor) -> tuple[ImageFeatures, ImageFeatures]:
        """Two distinct perturbed views per image of ``idx``, with PDCA's feature dropout."""
        n_views = self.bank.views
        first = torch.randint(n_views, (len(idx),), device=idx.device)
        second = (first + torch.randint(1, n_views, (len(idx),), device=idx.device)) % n_views
        return self.bank.features(model, idx, first, self.dropout), self.bank.features(model, idx, second, self.dropout)

    def release(self) -> None:
        self.bank = None
