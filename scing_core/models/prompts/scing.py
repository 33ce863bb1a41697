"""SCING's SVIP prompt learner (paper sec. 3.3): selective visual prompt fusion.

c = MLP(V) (D -> D/16 -> d, ReLU), alpha = sigmoid(W_s V + b_s) in [0, 1]^d, and
p_i <- p_i + c * alpha for the first M of the L identity tokens (eq. 10). V is the image CLS
feature before projection (``cond_source="pre_proj"``, D = 768 for ViT-B-16) or the projected one
(``"proj"``). ``gate=False`` drops alpha (plain c, an ablation). ``per_token=True`` gives each of the
M tokens its own condition c_i and gate alpha_i (eq. 10 read with per-token indices).
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from scing_core.config.checks import CHOICES
from scing_core.config.schema import ModelConfig
from scing_core.errors import ConfigError
from scing_core.models.prompts.base import PromptLearner, template_options
from scing_core.models.prompts.methods import register_method

COND_SOURCES = CHOICES["model.cond_source"]


class ScingPromptLearner(PromptLearner):
    conditional = True

    def __init__(
        self,
        num_classes: int,
        token_embedding: nn.Embedding,
        *,
        cond_dim: int,
        n_cond: int = 2,
        gate: bool = True,
        cond_source: str = "pre_proj",
        per_token: bool = False,
        **template,
    ) -> None:
        super().__init__(num_classes, token_embedding, **template)
        if not 1 <= n_cond <= self.n_ctx:
            raise ConfigError(f"model.n_cond must be between 1 and model.n_ctx={self.n_ctx}, got {n_cond}")
        self.cond_dim, self.n_cond, self.cond_source, self.per_token = cond_dim, n_cond, cond_source, per_token
        out = self.ctx_dim * (n_cond if per_token else 1)
        hidden = max(cond_dim // 16, 1)
        self.condition_mlp = nn.Sequential(
            OrderedDict(linear1=nn.Linear(cond_dim, hidden), relu=nn.ReLU(inplace=True), linear2=nn.Linear(hidden, out))
        )
        self.gate = nn.Linear(cond_dim, out) if gate else None
        self.to(self.ctx.device)

    def gate_values(self, cond: torch.Tensor) -> torch.Tensor | None:
        """alpha = sigmoid(W_s V + b_s): [B, M, d] (the same row for every token unless per_token), or None."""
        if self.gate is None:
            return None
        return torch.sigmoid(self.gate(cond)).view(cond.shape[0], -1, self.ctx_dim).expand(-1, self.n_cond, -1)

    def condition(self, cond: torch.Tensor) -> torch.Tensor:
        """The fused visual condition c * alpha for each of the first M tokens: [B, M, d]."""
        c = self.condition_mlp(cond).view(cond.shape[0], -1, self.ctx_dim).expand(-1, self.n_cond, -1)
        alpha = self.gate_values(cond)
        return c if alpha is None else c * alpha

    def forward(self, labels: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        """Prompt embeddings [B, T, d]: the first M identity tokens receive c * alpha, the rest stay."""
        cond = self.check_condition(cond, labels, self.cond_dim)
        ctx = self.class_tokens(labels)
        fused = ctx[:, : self.n_cond] + self.condition(cond).to(ctx.dtype)
        return self.assemble(torch.cat([fused, ctx[:, self.n_cond :]], dim=1))


@register_method("scing", title="SCING")
def build_scing(model_cfg: ModelConfig, num_classes: int, backbone) -> PromptLearner:
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
        **template_options(model_cfg, backbone),
    )
