"""The open_clip backbone adapter: grids, positional-embedding resize, SIE, feature widths."""

from __future__ import annotations

import open_clip
import pytest
import torch

from scing_core.errors import ConfigError, InputError, RegistryError
from scing_core.models import ClipBackbone, create_backbone, list_archs
from scing_core.models.pos_embed import infer_grid, resize_grid_embedding

from .conftest import TINY_SIZE


def test_vit_grid_follows_image_size_and_stride():
    assert create_backbone("scing-tiny", image_size=TINY_SIZE, stride=16).grid == (4, 2)
    overlapping = create_backbone("scing-tiny", image_size=TINY_SIZE, stride=12)
    assert overlapping.grid == ((64 - 16) // 12 + 1, (32 - 16) // 12 + 1) == (5, 2)
    assert overlapping.clip.visual.positional_embedding.shape == (1 + 5 * 2, 64)
    assert overlapping.clip.visual.conv1.stride == (12, 12)


def test_stride_12_forward_runs_on_overlapping_patches(images):
    backbone = create_backbone("scing-tiny", image_size=TINY_SIZE, stride=12)
    tokens = backbone.forward_tokens(images)
    assert tokens.shape == (4, 1 + 5 * 2, 64)
    assert backbone.reshape_tokens(tokens).shape == (4, 64, 5, 2)


def test_position_embedding_resize_keeps_cls_and_interpolates_bilinearly():
    torch.manual_seed(0)
    clip = open_clip.create_model("scing-tiny")
    original = clip.visual.positional_embedding.detach().clone()  # CLS + 4x4 grid (64x64 pre-training size)
    backbone = ClipBackbone(clip, "scing-tiny", image_size=TINY_SIZE, stride=16)  # 4x2 grid
    resized = backbone.clip.visual.positional_embedding.detach()
    assert torch.equal(resized[0], original[0])
    old_grid = original[1:].view(4, 4, -1)
    new_grid = resized[1:].view(4, 2, -1)
    # halving the width bilinearly (align_corners=False) averages neighbouring column pairs
    expected = (old_grid[:, 0::2] + old_grid[:, 1::2]) / 2
    torch.testing.assert_close(new_grid, expected, rtol=1e-6, atol=1e-6)


def test_resize_grid_embedding_is_identity_on_same_grid_and_preserves_constants():
    pos = torch.randn(1 + 6, 8)
    assert torch.equal(resize_grid_embedding(pos, (3, 2), (3, 2)), pos)
    constant = torch.cat([torch.randn(1, 8), torch.full((6, 8), 0.25)])
    grown = resize_grid_embedding(constant, (3, 2), (7, 5))
    assert grown.shape == (1 + 35, 8)
    torch.testing.assert_close(grown[1:], torch.full((35, 8), 0.25))


def test_infer_grid_prefers_square_then_closest_aspect_ratio():
    assert infer_grid(196, like=(16, 8)) == (14, 14)
    assert infer_grid(210, like=(16, 8)) == (21, 10)
    assert infer_grid(8, like=(5, 2)) == (4, 2)


def test_sie_changes_only_the_cls_token_by_its_cameras_embedding(images):
    backbone = create_backbone("scing-tiny", image_size=TINY_SIZE, sie_cameras=3, sie_coef=1.5).eval()
    captured = []
    hook = backbone.clip.visual.ln_pre.register_forward_pre_hook(lambda module, args: captured.append(args[0]))
    with torch.no_grad():
        backbone.forward_features(images, torch.tensor([0, 0, 0, 0]))
        backbone.forward_features(images, torch.tensor([1, 0, 2, 0]))
    hook.remove()
    diff = captured[1] - captured[0]
    assert torch.count_nonzero(diff[:, 1:]) == 0  # patch tokens untouched
    sie = backbone.sie_embed.detach()
    torch.testing.assert_close(diff[0, 0], 1.5 * (sie[1] - sie[0]))
    torch.testing.assert_close(diff[2, 0], 1.5 * (sie[2] - sie[0]))
    assert torch.count_nonzero(diff[[1, 3], 0]) == 0  # same camera -> same CLS


def test_sie_backbone_asks_for_camera_ids(images):
    backbone = create_backbone("scing-tiny", image_size=TINY_SIZE, sie_cameras=2)
    with pytest.raises(InputError, match="camera ids"):
        backbone.forward_features(images)


def test_features_before_and_after_projection_have_clip_widths(images):
    backbone = create_backbone("scing-tiny", image_size=TINY_SIZE)
    pre_proj, proj = backbone.forward_features(images)
    assert (backbone.visual_width, backbone.embed_dim, backbone.text_width) == (64, 32, 64)
    assert pre_proj.shape == (4, 64) and proj.shape == (4, 32)
    torch.testing.assert_close(proj, pre_proj @ backbone.clip.visual.proj)
    assert backbone.cam_target_layer is backbone.clip.visual.transformer.resblocks[-1].ln_1


def test_vit_forward_matches_open_clip_at_its_own_size():
    torch.manual_seed(0)
    backbone = create_backbone("scing-tiny", image_size=(64, 64)).eval()  # the config's own 4x4 grid
    images = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        ours = backbone.forward_features(images).proj
        theirs = backbone.clip.encode_image(images)
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-5)


def test_images_of_another_size_are_refused_with_the_expected_size():
    backbone = create_backbone("scing-tiny", image_size=TINY_SIZE)
    with pytest.raises(InputError, match="64x32"):
        backbone.forward_features(torch.randn(1, 3, 32, 32))


def test_unknown_architecture_lists_valid_names():
    with pytest.raises(RegistryError) as info:
        create_backbone("scing-tinyy")
    message = str(info.value)
    assert "scing-tiny" in message and "synthclip-s" in message and "ViT-B-16" in message
    assert "Did you mean 'scing-tiny'" in message
    assert {"scing-tiny", "synthclip-s", "ViT-B-16", "RN50"} <= set(list_archs())


def test_bad_stride_is_a_config_error():
    with pytest.raises(ConfigError, match="stride"):
        create_backbone("scing-tiny", image_size=TINY_SIZE, stride=20)


@pytest.mark.slow
def test_vit_b16_at_256x128_stride_12_has_a_21x10_grid_and_768_512_features():
    backbone = create_backbone("ViT-B-16", image_size=(256, 128), stride=12).eval()
    assert backbone.grid == (21, 10)
    assert backbone.clip.visual.positional_embedding.shape == (211, 768)
    with torch.no_grad():
        pre_proj, proj = backbone.forward_features(torch.randn(1, 3, 256, 128))
    assert pre_proj.shape == (1, 768) and proj.shape == (1, 512)


@pytest.mark.slow
def test_rn50_resizes_its_attention_pool_and_refuses_sie_and_stride():
    backbone = create_backbone("RN50", image_size=(64, 32)).eval()
    assert backbone.grid == (2, 1)
    assert backbone.clip.visual.attnpool.positional_embedding.shape == (1 + 2, 2048)
    with torch.no_grad():
        pre_proj, proj = backbone.forward_features(torch.randn(2, 3, 64, 32))
    assert pre_proj.shape == (2, 2048) and proj.shape == (2, 1024)
    assert backbone.cam_target_layer is backbone.clip.visual.layer4
    with pytest.raises(ConfigError, match="SIE"):
        create_backbone("RN50", image_size=(64, 32), sie_cameras=2)
    with pytest.raises(ConfigError, match="stride"):
        create_backbone("RN50", image_size=(64, 32), stride=12)
