"""The prompt template and the identity tokens every prompt learner starts from.

Prompt: ``"<prefix> X1 ... XL <suffix>"`` (default "A photo of a X X X X person."), tokenised with
open_clip's tokenizer. The token embeddings of the fixed words (SOT + prefix, suffix + EOT +
padding) are buffers computed once from CLIP's token embedding; the L learnable tokens of each
identity are inserted after the prefix.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import open_clip
import torch
from torch import nn

from scing_core.errors import ConfigError, InputError

PLACEHOLDER = "X"


@functools.lru_cache(maxsize=1)
def _tokenizer() -> open_clip.SimpleTokenizer:
    return open_clip.SimpleTokenizer()


def template_options(model_cfg, backbone) -> dict:
    """The template settings every learner takes (``**template``): ``model.n_ctx``, the prompt's words,
    the tokens' init, and the text tower's context length."""
    return dict(
        n_ctx=model_cfg.n_ctx,
        prefix=model_cfg.prompt_prefix,
        suffix=model_cfg.prompt_suffix,
        ctx_init_std=model_cfg.ctx_init_std,
        context_length=backbone.clip.positional_embedding.shape[0],
    )


class PromptTemplate(NamedTuple):
    token_ids: torch.Tensor  # [context_length] token ids of the whole prompt (placeholders included)
    ctx_start: int  # position of the first learnable token
    n_ctx: int  # L
    eot_index: int  # position of the end-of-text token


def build_template(prefix: str, n_ctx: int, suffix: str, context_length: int) -> PromptTemplate:
    """Tokenise ``prefix + L placeholders + suffix`` and locate the learnable tokens and the EOT."""
    if n_ctx < 1:
        raise ConfigError(f"model.n_ctx must be >= 1 learnable token, got {n_ctx}")
    tokenizer = _tokenizer()
    text = " ".join(part for part in (prefix.strip(), " ".join([PLACEHOLDER] * n_ctx), suffix.strip()) if part)
    needed = 2 + len(tokenizer.encode(text))
    if needed > context_length:
        raise ConfigError(
            f"the prompt '{text}' needs {needed} tokens but the text encoder takes {context_length}; "
            "shorten model.prompt_prefix / model.prompt_suffix or lower model.n_ctx"
        )
    token_ids = tokenizer(text, context_length=context_length)[0]
    ctx_start = 1 + len(tokenizer.encode(prefix)) if prefix.strip() else 1
    placeholder_id = tokenizer.encode(PLACEHOLDER)[0]
    if not bool((token_ids[ctx_start : ctx_start + n_ctx] == placeholder_id).all()):
        raise ConfigError(f"could not place the learnable tokens in '{text}': does the prefix end in 'X'?")
    eot_index = int((token_ids == tokenizer.eot_token_id).nonzero()[0, 0])
    return PromptTemplate(token_ids, ctx_start, n_ctx, eot_index)


class PromptLearner(nn.Module):
    """Per-identity learnable tokens ``ctx [num_classes, L, d]`` inside a fixed template.

    Subclasses implement ``forward(labels [B], cond [B, C] | None) -> prompt embeddings [B, T, d]``.
    ``eot_indices`` [num_classes] is the EOT position of each class's prompt.
    """

    conditional: bool = False  # whether forward needs an image condition
    cond_source: str | None = None  # "pre_proj" or "proj": which image feature conditions the prompts

    def __init__(
        self,
        num_classes: int,
        token_embedding: nn.Embedding,
        *,
        n_ctx: int = 4,
        prefix: str = "A photo of a",
        suffix: str = "person.",
        ctx_init_std: float = 0.02,
        context_length: int = 77,
    ) -> None:
        super().__init__()
        if num_classes < 1:
            raise ConfigError(f"num_classes must be >= 1, got {num_classes}")
        template = build_template(prefix, n_ctx, suffix, context_length)
        device = token_embedding.weight.device
        with torch.no_grad():
            embedded = token_embedding(template.token_ids.to(device)).detach().float()  # [T, d]
        self.num_classes, self.n_ctx, self.ctx_dim = num_classes, n_ctx, embedded.shape[-1]
        self.register_buffer("token_prefix", embedded[None, : template.ctx_start].clone())  # saved: loading a checkpoint must restore the trained fixed words
        self.register_buffer("token_suffix", embedded[None, template.ctx_start + n_ctx :].clone())
        self.register_buffer("eot_indices", torch.full((num_classes,), template.eot_index, device=device), persistent=False)
        self.ctx = nn.Parameter(torch.empty(num_classes, n_ctx, self.ctx_dim, device=device))
        nn.init.normal_(self.ctx, mean=0.0, std=ctx_init_std)

    def class_tokens(self, labels: torch.Tensor) -> torch.Tensor:
        """The learnable tokens of each label: [B, L, d]."""
        if labels.ndim != 1 or labels.dtype not in (torch.int64, torch.int32):
            raise InputError(f"labels must be a 1-D integer tensor, got {labels.dtype} {tuple(labels.shape)}")
        return self.ctx[labels]

    def assemble(self, ctx: torch.Tensor) -> torch.Tensor:
        """Insert learnable tokens [B, L, d] between the fixed prefix and suffix: [B, T, d]."""
        batch = ctx.shape[0]
        prefix = self.token_prefix.expand(batch, -1, -1).to(ctx.dtype)
        suffix = self.token_suffix.expand(batch, -1, -1).to(ctx.dtype)
        return torch.cat([prefix, ctx, suffix], dim=1)

    def check_condition(self, cond: torch.Tensor | None, labels: torch.Tensor, width: int) -> torch.Tensor:
        """A conditional learner's guard: ``cond`` must be [B, width] for B labels."""
        if cond is None:
            raise InputError(f"the {type(self).__name__} conditions prompts on image features: pass cond [B, {width}]")
        if cond.ndim != 2 or cond.shape != (labels.shape[0], width):
            raise InputError(f"cond must be [{labels.shape[0]}, {width}] for {labels.shape[0]} labels, got {tuple(cond.shape)}")
        return cond

    def forward(self, labels: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError
