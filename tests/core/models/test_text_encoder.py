"""The text encoder over prompt embeddings: running only up to the EOT token changes nothing."""

from __future__ import annotations

import pytest
import torch

from scing_core.errors import InputError
from scing_core.models import TextEncoder, create_backbone
from scing_core.models.prompts import build_template

from .conftest import TINY_SIZE


@pytest.fixture(scope="module")
def clip_model():
    torch.manual_seed(0)
    return create_backbone("scing-tiny", image_size=TINY_SIZE).clip.eval()


def test_truncated_context_equals_full_context_forward_and_backward(clip_model):
    encoder = TextEncoder(clip_model)
    prompts = torch.randn(6, 77, 64, requires_grad=True)
    eot = torch.tensor([11, 11, 5, 20, 11, 3])
    encoder.truncate = True
    short = encoder(prompts, eot)
    (grad_short,) = torch.autograd.grad(short.square().sum(), prompts)
    encoder.truncate = False
    full = encoder(prompts, eot)
    (grad_full,) = torch.autograd.grad(full.square().sum(), prompts)
    assert short.shape == (6, 32)
    torch.testing.assert_close(short, full, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(grad_short, grad_full, rtol=1e-5, atol=1e-5)
    assert torch.count_nonzero(grad_short[:, 21:]) == 0  # positions after every EOT do not matter


def test_text_encoder_on_token_embeddings_matches_open_clip_encode_text(clip_model):
    template = build_template("A photo of a", 4, "person.", 77)
    tokens = template.token_ids[None]
    encoder = TextEncoder(clip_model)
    with torch.no_grad():
        ours = encoder(clip_model.token_embedding(tokens), torch.tensor([template.eot_index]))
        theirs = clip_model.encode_text(tokens)
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-5)


def test_text_encoder_checks_shapes(clip_model):
    encoder = TextEncoder(clip_model)
    with pytest.raises(InputError, match=r"\[N, T, d\]"):
        encoder(torch.randn(2, 77, 64), torch.tensor([3]))
