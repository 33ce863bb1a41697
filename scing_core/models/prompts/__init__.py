"""Prompt learners, one module per method, each registering itself (:mod:`.methods`).

- ``clipreid``: per-identity tokens (CLIP-ReID).
- ``cocoop``: + CoCoOp's meta-net on the projected image feature, added to all tokens.
- ``scing``: + SVIP: gated visual condition on the first M tokens.

Common interface: ``forward(labels [B], cond [B, C] | None) -> prompt embeddings [B, T, d]``,
``eot_indices`` [num_classes], ``conditional`` and ``cond_source``. Every module of this package is
imported, so a new method's file registers it without an import list (docs/architecture.md,
"Adding a method").
"""

from __future__ import annotations

from scing_core.models.prompts.base import PromptLearner, PromptTemplate, build_template
from scing_core.models.prompts.clipreid import ClipReIDPromptLearner
from scing_core.models.prompts.cocoop import CoCoOpPromptLearner
from scing_core.models.prompts.methods import (METHODS, Method, create_prompt_learner, list_methods, method_title,
                                               register_method)
from scing_core.models.prompts.scing import ScingPromptLearner
from scing_core.registry import import_modules

import_modules(__name__, __path__)

__all__ = [
    "METHODS",
    "ClipReIDPromptLearner",
    "CoCoOpPromptLearner",
    "Method",
    "PromptLearner",
    "PromptTemplate",
    "ScingPromptLearner",
    "build_template",
    "create_prompt_learner",
    "list_methods",
    "method_title",
    "register_method",
]
