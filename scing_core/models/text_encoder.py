"""CLIP's text transformer over prompt *embeddings* (learnable tokens included), read at the EOT token.

The text transformer is causal: a token attends only to itself and earlier tokens, so the
features at the EOT position do not depend on anything after it. The encoder therefore runs only
the first ``max(eot_indices) + 1`` positions of the context (12 of 77 for "A photo of a X X X X
person."), which gives the same output several times faster, forward and backward
(``benchmarks/bench_text_encoder.py``).
"""

from __future__ import annotations

import open_clip
import torch
from torch import nn

from scing_core.errors import InputError


class TextEncoder(nn.Module):
    """Wraps the text tower of an open_clip ``CLIP`` (its modules are shared, not copied)."""

    def __init__(self, clip_model: open_clip.CLIP, truncate: bool = True) -> None:
        super().__init__()
        self.transformer = clip_model.transformer
        self.positional_embedding = clip_model.positional_embedding
        self.ln_final = clip_model.ln_final
        self.text_projection = clip_model.text_projection
        self.register_buffer("attn_mask", clip_model.attn_mask, persistent=False)
        self.truncate = truncate  # False runs the whole context (for benchmarks and checks)

    @property
    def context_length(self) -> int:
        return self.positional_embedding.shape[0]

    def forward(self, prompt_embeddings: torch.Tensor, eot_indices: torch.Tensor) -> torch.Tensor:
        """Prompt embeddings [N, T, d] and their EOT positions [N] -> text features [N, E] (unnormalised)."""
        if prompt_embeddings.ndim != 3 or eot_indices.ndim != 1 or eot_indices.shape[0] != prompt_embeddings.shape[0]:
            raise InputError(
                f"expected prompt embeddings [N, T, d] and EOT indices [N], got {tuple(prompt_embeddings.shape)} "
                f"and {tuple(eot_indices.shape)}"
            )
        length = prompt_embeddings.shape[1]
        if length > self.context_length:
            raise InputError(f"prompts have {length} tokens, more than the context length {self.context_length}")
        if self.truncate:
            length = min(length, int(eot_indices.max()) + 1)
        x = prompt_embeddings[:, :length] + self.positional_embedding[:length].to(prompt_embeddings.dtype)
        mask = self.attn_mask[:length, :length] if self.attn_mask is not None else None
        x = self.transformer(x, attn_mask=mask)
        x = self.ln_final(x)
        x = x[torch.arange(x.shape[0], device=x.device), eot_indices]
        if isinstance(self.text_projection, nn.Linear):
            return self.text_projection(x)
        return x @ self.text_projection
