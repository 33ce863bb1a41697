"""CoCoOp for ReID (the paper's ablation row 2): CLIP-ReID's identity tokens plus CoCoOp's meta-net.

c = MetaNet(x) with x the L2-normalised *projected* image feature (E -> E/16 -> d, ReLU), added to
all L tokens, no gate. Normalising x before the meta-net follows CoCoOp's own code, which feeds
the normalised CLIP image feature.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

from scing_core.config.schema import ModelConfig
from scing_core.models.prompts.base import PromptLearner, template_options
from scing_core.models.prompts.methods import register_method


class CoCoOpPromptLearner(PromptLearner):
    conditional = True
    cond_source = "proj"

    def __init__(self, num_classes: int, token_embedding: nn.Embedding, *, cond_dim: int, **template) -> None:
        super().__init__(num_classes, token_embedding, **template)
        hidden = max(cond_dim // 16, 1)
        self.cond_dim = cond_dim
        self.meta_net = nn.Sequential(
            OrderedDict(
                linear1=nn.Linear(cond_dim, hidden),
                relu=nn.ReLU(inplace=True),
                linear2=nn.Linear(hidden, self.ctx_dim),
            )
        ).to(self.ctx.device)

    def condition(self, cond: torch.Tensor) -> torch.Tensor:
        """The meta-token c [B, d] added to every learnable token."""
        return self.meta_net(F.normalize(cond, dim=-1))

    def forward(self, labels: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        """Prompt embeddings [B, T, d]: identity tokens of ``labels`` + c(cond) on all L of them."""
        cond = self.check_condition(cond, labels, self.cond_dim)
        ctx = self.class_tokens(labels) + self.condition(cond).unsqueeze(1).to(self.ctx.dtype)
        return self.assemble(ctx)


@register_method("cocoop", title="CoCoOp")
def build_cocoop(model_cfg: ModelConfig, num_classes: int, backbone) -> PromptLearner:
    return CoCoOpPromptLearner(num_classes, backbone.clip.token_embedding, cond_dim=backbone.embed_dim,
                               **template_options(model_cfg, backbone))
