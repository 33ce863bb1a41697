"""The stage-1 and stage-2 objectives, weighted from :class:`~scing_core.config.schema.LossConfig`.

Each objective is called once per step and returns ``(total, parts)``: ``total`` is the weighted
sum to back-propagate, ``parts`` maps each computed term to its *unweighted* value as a float, plus
``"total"`` (the weighted sum), for the event log. All parts are read back in one host transfer.
Terms whose weight is 0 are not computed and do not appear in ``parts``.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import torch

from scing_core.config.checks import CHOICES, RANGES, check_stage2_weights
from scing_core.config.schema import LossConfig
from scing_core.errors import ConfigError, InputError
from scing_core.losses.consistency import consistency_loss
from scing_core.losses.cross_entropy import label_smoothed_ce_loss
from scing_core.losses.i2t_ce import i2t_ce_loss
from scing_core.losses.supcon import supcon_loss
from scing_core.losses.triplet import batch_hard_triplet_loss
from scing_core.losses.xm_triplet import xm_triplet_loss


def _require(condition: bool, key: str, value: Any, rule: str) -> None:
    if not condition:
        raise ConfigError(
            f"loss.{key} = {value!r} is invalid: it must be {rule}; fix it in the preset or pass loss.{key}=..."
        )


def _validate(cfg: LossConfig) -> None:
    """Reject loss settings that would train on a wrong or undefined objective (the config's own rules:
    a LossConfig built by hand, not resolved, is checked the same way)."""
    for key, (rule, allowed) in RANGES.items():
        if key.startswith("loss."):
            value = getattr(cfg, key[len("loss."):])
            _require(rule(value), key[len("loss."):], list(value) if isinstance(value, tuple) else value, allowed)
    for key in ("supcon_similarity", "i2t_similarity"):
        allowed = CHOICES[f"loss.{key}"]
        _require(getattr(cfg, key) in allowed, key, getattr(cfg, key), "one of " + ", ".join(allowed))


def _sum_and_report(terms: list[tuple[str, float, torch.Tensor]]) -> tuple[torch.Tensor, dict[str, float]]:
    """Weighted sum of ``(name, weight, value)`` terms and their float values in one transfer."""
    total = sum(weight * value for _, weight, value in terms)
    values = torch.stack([value.detach() for _, _, value in terms] + [total.detach()]).tolist()
    names = [name for name, _, _ in terms] + ["total"]
    return total, dict(zip(names, values))


def _logit_list(out: Any) -> list[torch.Tensor]:
    """``out.logits`` as a non-empty list of ``[B, C]`` tensors (a single tensor is accepted too)."""
    logits = out.logits
    if isinstance(logits, torch.Tensor):
        logits = [logits]
    if not logits:
        raise InputError(
            "Stage2Loss: loss.w_id > 0 but the model returned no classifier logits (`out.logits` is empty)"
        )
    return list(logits)


class Stage1Loss:
    """Stage 1 (paper eqs. 15-16): ``L = SupCon_i2t + SupCon_t2i + lambda_con * L_con``.

    ``SupCon_i2t`` anchors the images against the texts, ``SupCon_t2i`` the texts against the
    images; identity labels mark the positives on both sides. ``L_con`` (eq. 14) compares each
    image's text feature with those of its two perturbed views; it is computed only when
    ``view_texts`` is given and ``loss.lambda_con > 0``.
    """

    def __init__(self, loss_cfg: LossConfig) -> None:
        _validate(loss_cfg)
        self.cfg = loss_cfg

    def __call__(
        self,
        img_proj: torch.Tensor,
        text: torch.Tensor,
        labels: torch.Tensor,
        view_texts: Sequence[torch.Tensor] | None,
        logit_scale: float | torch.Tensor,
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """Return ``(total, parts)`` for projected image features ``[B, E]`` and text features ``[B, E]``."""
        temperature, similarity = self.cfg.temperature, self.cfg.supcon_similarity
        terms = [
            ("supcon_i2t", 1.0, supcon_loss(img_proj, text, labels, labels, logit_scale, temperature, similarity)),
            ("supcon_t2i", 1.0, supcon_loss(text, img_proj, labels, labels, logit_scale, temperature, similarity)),
        ]
        if view_texts is not None and self.cfg.lambda_con > 0:
            if len(view_texts) != 2:
                raise InputError(
                    f"Stage1Loss: `view_texts` must hold the text features of exactly two perturbed views "
                    f"(paper eq. 12), got {len(view_texts)}"
                )
            terms.append(("consistency", self.cfg.lambda_con, consistency_loss(text, view_texts[0], view_texts[1])))
        return _sum_and_report(terms)


class Stage2Loss:
    """Stage 2 (paper eq. 20 plus CLIP-ReID's losses as switches)::

        L = w_i2t_ce     * i2t_ce(out.proj, prototypes)                       (eq. 17)
          + w_xm_triplet * xm_triplet(out.proj, prototypes[labels])          (eqs. 18-19)
          + w_id         * sum over out.logits of label-smoothed CE
          + w_triplet    * sum over loss.triplet_features of batch-hard triplet

    ``out`` is the model's stage-2 output, with attributes ``penultimate``, ``pre_proj``, ``proj``,
    ``logits`` (a list of ``[B, C]``), and ``bn_pre_proj`` / ``bn_proj`` (unused here: they feed
    the classifiers). Terms with weight 0 are skipped, so their inputs may be missing.
    ``loss.i2t_similarity`` / ``loss.label_smoothing`` shape the i2t CE (CLIP-ReID: raw dot
    products, smoothing 0.1); the same smoothing applies to the ID loss.
    """

    def __init__(self, loss_cfg: LossConfig) -> None:
        _validate(loss_cfg)
        check_stage2_weights(loss_cfg)
        self.cfg = loss_cfg

    def _term_functions(
        self, out: Any, labels: torch.Tensor, prototypes: torch.Tensor, logit_scale: float | torch.Tensor
    ) -> list[tuple[str, float, Callable[[], torch.Tensor]]]:
        """Each term as ``(name, weight, thunk)``; a thunk runs only when its weight is > 0."""
        cfg = self.cfg
        scale = cfg.i2t_logit_scale if cfg.i2t_logit_scale > 0 else logit_scale
        return [
            ("i2t_ce", cfg.w_i2t_ce, lambda: i2t_ce_loss(out.proj, prototypes, labels, scale, cfg.i2t_similarity,
                                                         cfg.label_smoothing)),
            ("xm_triplet", cfg.w_xm_triplet, lambda: xm_triplet_loss(
                out.proj, prototypes[labels.to(prototypes.device)], labels, cfg.xm_margin)),
            ("id", cfg.w_id, lambda: sum(
                label_smoothed_ce_loss(scores, labels, cfg.label_smoothing) for scores in _logit_list(out))),
            ("triplet", cfg.w_triplet, lambda: sum(
                batch_hard_triplet_loss(getattr(out, name), labels, cfg.triplet_margin)
                for name in cfg.triplet_features)),
        ]

    def __call__(
        self, out: Any, labels: torch.Tensor, prototypes: torch.Tensor, logit_scale: float | torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """Return ``(total, parts)`` for one batch; ``prototypes [C, E]`` are the frozen class text features."""
        terms = [
            (name, weight, compute())
            for name, weight, compute in self._term_functions(out, labels, prototypes, logit_scale)
            if weight > 0
        ]
        return _sum_and_report(terms)
