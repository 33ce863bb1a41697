"""CLIP-ReID's prompt learner: L learnable tokens per identity, no image condition."""

from __future__ import annotations

import torch

from scing_core.config.schema import ModelConfig
from scing_core.models.prompts.base import PromptLearner, template_options
from scing_core.models.prompts.methods import register_method


class ClipReIDPromptLearner(PromptLearner):
    """"A photo of a X1..XL person." with identity-specific X tokens (``ctx`` init N(0, ctx_init_std))."""

    conditional = False
    cond_source = None

    def forward(self, labels: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        """Prompt embeddings [B, T, d] for the identities ``labels`` [B]; ``cond`` is ignored."""
        return self.assemble(self.class_tokens(labels))


@register_method("clipreid", title="CLIP-ReID")
def build_clipreid(model_cfg: ModelConfig, num_classes: int, backbone) -> PromptLearner:
    return ClipReIDPromptLearner(num_classes, backbone.clip.token_embedding, **template_options(model_cfg, backbone))
