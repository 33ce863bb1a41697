"""Prompt learners, one per method, chosen by name through a registry.

- ``clipreid``: per-identity tokens (CLIP-ReID).
- ``cocoop``: + CoCoOp's meta-net on the projected image feature, added to all tokens.
- ``scing``: + SVIP: gated visual condition on the first M tokens.

Common interface: ``forward(labels [B], cond [B, C] | None) -> prompt embeddings [B, T, d]``,
``eot_indices`` [num_classes], ``conditional`` and ``cond_source``.
"""

from __future__ import annotations

from typing import Callable

from scing_core.config.checks import CHOICES
from scing_core.config.schema import ModelConfig
from scing_core.errors import ConfigError
from scing_core.models.prompts.base import PromptLearner, PromptTemplate, build_template
from scing_core.models.prompts.clipreid import ClipReIDPromptLearner
from scing_core.models.prompts.cocoop import CoCoOpPromptLearner
from scing_core.models.prompts.scing import ScingPromptLearner
from scing_core.registry import Registry

COND_SOURCES = CHOICES["model.cond_source"]

# name -> factory(model_cfg, num_classes, backbone) -> PromptLearner
PROMPT_LEARNERS: Registry[Callable[..., PromptLearner]] = Registry("method")


def _template_kwargs(model_cfg: ModelConfig, backbone) -> dict:
    return dict(
        n_ctx=model_cfg.n_ctx,
        prefix=model_cfg.prompt_prefix,
        suffix=model_cfg.prompt_suffix,
        ctx_init_std=model_cfg.ctx_init_std,
        context_length=backbone.clip.positional_embedding.shape[0],
    )


@PROMPT_LEARNERS.register("clipreid")
def _clipreid(model_cfg: ModelConfig, num_classes: int, backbone) -> PromptLearner:
    return ClipReIDPromptLearner(num_classes, backbone.clip.token_embedding, **_template_kwargs(model_cfg, backbone))


@PROMPT_LEARNERS.register("cocoop")
def _cocoop(model_cfg: ModelConfig, num_classes: int, backbone) -> PromptLearner:
    return CoCoOpPromptLearner(
        num_classes, backbone.clip.token_embedding, cond_dim=backbone.embed_dim, **_template_kwargs(model_cfg, backbone)
    )


@PROMPT_LEARNERS.register("scing")
def _scing(model_cfg: ModelConfig, num_classes: int, backbone) -> PromptLearner:
    if model_cfg.cond_source not in COND_SOURCES:
        raise ConfigError(f"model.cond_source must be one of {', '.join(COND_SOURCES)}, got '{model_cfg.cond_source}'")
    cond_dim = backbone.visual_width if model_cfg.cond_source == "pre_proj" else backbone.embed_dim
    return ScingPromptLearner(
        num_classes,
        backbone.clip.token_embedding,
        cond_dim=cond_dim,
        n_cond=model_cfg.n_cond,
        gate=model_cfg.gate,
        cond_source=model_cfg.cond_source,
        per_token=bool(getattr(model_cfg, "per_token_cond", False)),
        **_template_kwargs(model_cfg, backbone),
    )


METHOD_TITLES = {"clipreid": "CLIP-ReID", "cocoop": "CoCoOp", "scing": "SCING"}


def method_title(method: str) -> str:
    """How reports and the studio name a method (``scing`` -> ``SCING``); unknown names as given."""
    return METHOD_TITLES.get(method, method)


def list_methods() -> list[str]:
    """The method names ``build_model`` accepts."""
    return PROMPT_LEARNERS.names()


def create_prompt_learner(method: str, model_cfg: ModelConfig, num_classes: int, backbone) -> PromptLearner:
    """The prompt learner of ``method`` for ``num_classes`` identities over ``backbone``'s text tower."""
    return PROMPT_LEARNERS.get(method)(model_cfg, num_classes, backbone)


__all__ = [
    "PROMPT_LEARNERS",
    "ClipReIDPromptLearner",
    "CoCoOpPromptLearner",
    "PromptLearner",
    "PromptTemplate",
    "ScingPromptLearner",
    "build_template",
    "create_prompt_learner",
    "list_methods",
    "method_title",
]
