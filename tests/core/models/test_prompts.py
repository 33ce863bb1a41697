"""Prompt learners: template, shapes, and where (and whether) the visual condition lands."""

from __future__ import annotations

import pytest
import torch

from scing_core.errors import ConfigError, InputError, RegistryError
from scing_core.models import build_model, create_backbone, list_methods
from scing_core.models.prompts import build_template, create_prompt_learner

from .conftest import TINY_SIZE, tiny_config


@pytest.fixture(scope="module")
def backbone():
    torch.manual_seed(0)
    return create_backbone("scing-tiny", image_size=TINY_SIZE)


def learner(method: str, backbone, num_classes: int = 5, **model_fields):
    return create_prompt_learner(method, tiny_config(method=method, **model_fields).model, num_classes, backbone)


def test_template_places_learnable_tokens_after_the_prefix_and_finds_eot():
    template = build_template("A photo of a", 4, "person.", 77)
    # SOT, a, photo, of, a, X X X X, person, ., EOT
    assert (template.ctx_start, template.eot_index) == (5, 11)
    assert template.token_ids[template.eot_index] == template.token_ids.max()


def test_too_long_prompt_is_a_config_error():
    with pytest.raises(ConfigError, match="shorten"):
        build_template("word " * 70, 4, "person.", 77)


def test_clipreid_prompts_hold_fixed_words_around_identity_tokens(backbone, labels):
    prompts_of = learner("clipreid", backbone)
    prompts = prompts_of(labels)
    assert prompts.shape == (4, 77, 64)
    assert not prompts_of.conditional and prompts_of.cond_source is None
    fixed = backbone.clip.token_embedding(build_template("A photo of a", 4, "person.", 77).token_ids).detach()
    torch.testing.assert_close(prompts[:, :5], fixed[:5].expand(4, -1, -1))
    torch.testing.assert_close(prompts[:, 9:], fixed[9:].expand(4, -1, -1))
    torch.testing.assert_close(prompts[:, 5:9], prompts_of.ctx[labels])
    assert prompts_of.ctx.shape == (5, 4, 64)
    assert 0.01 < prompts_of.ctx.std().item() < 0.03  # N(0, 0.02)


def test_cocoop_condition_shifts_all_learnable_tokens_equally(backbone, labels):
    prompts_of = learner("cocoop", backbone)
    assert prompts_of.conditional and prompts_of.cond_source == "proj"
    cond = torch.randn(4, 32)
    shifted = prompts_of(labels, cond) - prompts_of.assemble(prompts_of.class_tokens(labels))
    assert torch.count_nonzero(shifted[:, :5]) == 0 and torch.count_nonzero(shifted[:, 9:]) == 0
    meta_token = prompts_of.condition(cond)
    torch.testing.assert_close(shifted[:, 5:9], meta_token[:, None].expand(-1, 4, -1))
    assert meta_token.abs().sum() > 0


def test_scing_condition_reaches_only_the_first_m_tokens(backbone, labels):
    prompts_of = learner("scing", backbone, n_cond=2)
    assert prompts_of.conditional and prompts_of.cond_source == "pre_proj"
    cond = torch.randn(4, 64)  # pre-projection width D
    shifted = prompts_of(labels, cond) - prompts_of.assemble(prompts_of.class_tokens(labels))
    assert torch.count_nonzero(shifted[:, 5:7]) > 0
    assert torch.count_nonzero(shifted[:, :5]) == 0 and torch.count_nonzero(shifted[:, 7:]) == 0
    alpha = prompts_of.gate_values(cond)
    assert alpha.shape == (4, 2, 64) and alpha.min() >= 0 and alpha.max() <= 1
    c = prompts_of.condition_mlp(cond)
    torch.testing.assert_close(shifted[:, 5], c * alpha[:, 0])


def test_scing_conditions_differ_per_image_within_one_batch(backbone):
    prompts_of = learner("scing", backbone)
    same_identity = torch.tensor([3, 3])
    prompts = prompts_of(same_identity, torch.randn(2, 64))
    assert not torch.allclose(prompts[0, 5:7], prompts[1, 5:7])


def test_scing_gate_switch_and_condition_source(backbone, labels):
    ungated = learner("scing", backbone, gate=False)
    assert ungated.gate is None and ungated.gate_values(torch.randn(4, 64)) is None
    cond = torch.randn(4, 64)
    shifted = ungated(labels, cond) - ungated.assemble(ungated.class_tokens(labels))
    torch.testing.assert_close(shifted[:, 5], ungated.condition_mlp(cond))
    on_proj = learner("scing", backbone, cond_source="proj")
    assert on_proj.cond_source == "proj" and on_proj.gate.in_features == 32


def test_scing_parameter_sizes_follow_d_over_16_hidden_and_full_gate(backbone):
    prompts_of = learner("scing", backbone)
    mlp = 64 * 4 + 4 + 4 * 64 + 64  # D -> D/16 -> d
    gate = 64 * 64 + 64  # W_s [D, d] + b_s
    assert sum(p.numel() for p in prompts_of.parameters()) == 5 * 4 * 64 + mlp + gate


def test_conditional_learner_without_condition_explains(backbone, labels):
    with pytest.raises(InputError, match="cond"):
        learner("scing", backbone)(labels, None)
    with pytest.raises(InputError, match=r"\[4, 64\]"):
        learner("scing", backbone)(labels, torch.randn(4, 32))


def test_n_cond_must_fit_in_n_ctx(backbone):
    with pytest.raises(ConfigError, match="n_cond"):
        learner("scing", backbone, n_cond=5)


def test_unknown_method_lists_valid_ones():
    assert list_methods() == ["clipreid", "cocoop", "scing"]
    with pytest.raises(RegistryError) as info:
        build_model(tiny_config(method="scingg"), num_classes=3, num_cams=0)
    assert "clipreid, cocoop, scing" in str(info.value) and "Did you mean 'scing'" in str(info.value)


def test_scing_per_token_conditions_give_each_of_the_m_tokens_its_own_shift(backbone, labels):
    from scing_core.models.prompts import ScingPromptLearner

    prompts_of = ScingPromptLearner(5, backbone.clip.token_embedding, cond_dim=64, n_cond=3, per_token=True)
    cond = torch.randn(4, 64)
    shifted = prompts_of(labels, cond) - prompts_of.assemble(prompts_of.class_tokens(labels))
    assert prompts_of.gate.out_features == 3 * 64
    assert torch.count_nonzero(shifted[:, 8]) == 0  # the 4th token is not conditioned
    assert not torch.allclose(shifted[:, 5], shifted[:, 6])
    torch.testing.assert_close(shifted[:, 5:8], prompts_of.condition(cond))
