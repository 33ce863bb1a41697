"""Weight sources: local files of several layouts, resizing on load, and the errors users meet."""

from __future__ import annotations

import pickle

import pytest
import torch

from scing_core.errors import CheckpointError
from scing_core.models import build_model, create_backbone, load_pretrained
from scing_core.models.pos_embed import resize_grid_embedding

from .conftest import TINY_SIZE, tiny_config


def test_random_model_saved_then_loaded_by_path_gives_identical_outputs(tmp_path, images, labels):
    torch.manual_seed(1)
    first = build_model(tiny_config(method="clipreid"), num_classes=5, num_cams=0).eval()
    path = tmp_path / "clip.pt"
    torch.save(first.backbone.clip.state_dict(), path)
    torch.manual_seed(2)  # a different random init everywhere the file does not reach
    second = build_model(tiny_config(method="clipreid", pretrained=str(path)), num_classes=5, num_cams=0).eval()
    with torch.no_grad():
        assert torch.equal(first(images), second(images))
        prompts = first.prompt_learner(labels)
        eot = first.prompt_learner.eot_indices[labels]
        assert torch.equal(first.text_encoder(prompts, eot), second.text_encoder(prompts, eot))
    assert torch.equal(first.prompt_learner.token_prefix, second.prompt_learner.token_prefix)


def test_backbone_checkpoint_with_sie_and_wrappers_round_trips(tmp_path, images, cams):
    torch.manual_seed(3)
    first = create_backbone("scing-tiny", image_size=TINY_SIZE, sie_cameras=3).eval()
    wrapped = {"epoch": 7, "model": {f"module.{k}": v for k, v in first.state_dict().items()}}
    path = tmp_path / "checkpoint.pt"
    torch.save(wrapped, path)
    torch.manual_seed(4)
    second = create_backbone("scing-tiny", image_size=TINY_SIZE, sie_cameras=3, pretrained=str(path)).eval()
    with torch.no_grad():
        assert torch.equal(first.forward_features(images, cams).proj, second.forward_features(images, cams).proj)


def test_whole_reid_model_state_dict_is_accepted_as_backbone_weights(tmp_path, images):
    torch.manual_seed(5)
    model = build_model(tiny_config(method="scing"), num_classes=4, num_cams=0).eval()
    path = tmp_path / "reid.pt"
    torch.save({"state_dict": model.state_dict()}, path)
    backbone = create_backbone("scing-tiny", image_size=TINY_SIZE, pretrained=str(path)).eval()
    with torch.no_grad():
        assert torch.equal(backbone.forward_features(images).pre_proj, model.encode_image(images).pre_proj)


def test_weights_saved_at_another_grid_are_resized_to_the_backbone_grid(tmp_path):
    torch.manual_seed(6)
    saved = create_backbone("scing-tiny", image_size=TINY_SIZE, stride=16)  # 4x2 grid
    saved_pos = saved.clip.visual.positional_embedding.detach().clone()
    with_grid, clip_only = tmp_path / "backbone.pt", tmp_path / "clip.pt"
    torch.save(saved.state_dict(), with_grid)  # records pos_grid
    torch.save(saved.clip.state_dict(), clip_only)  # grid inferred from the cell count
    expected = resize_grid_embedding(saved_pos, (4, 2), (5, 2))
    for path in (with_grid, clip_only):
        loaded = create_backbone("scing-tiny", image_size=TINY_SIZE, stride=12, pretrained=str(path))
        assert loaded.grid == (5, 2)
        torch.testing.assert_close(loaded.clip.visual.positional_embedding.detach(), expected)


def test_file_for_another_architecture_names_it_and_counts_keys(tmp_path):
    path = tmp_path / "tiny.pt"
    torch.save(create_backbone("scing-tiny", image_size=TINY_SIZE).clip.state_dict(), path)
    with pytest.raises(CheckpointError) as info:
        create_backbone("synthclip-s", image_size=(128, 64), pretrained=str(path))
    message = str(info.value)
    assert "synthclip-s" in message
    assert "missing keys (e.g. visual.transformer.resblocks.2" in message
    assert "keys with other shapes" in message


def test_text_file_is_refused_as_not_weights(tmp_path):
    path = tmp_path / "notes.pt"
    path.write_text("these are not weights\n")
    with pytest.raises(CheckpointError, match="not a PyTorch weights file"):
        create_backbone("scing-tiny", image_size=TINY_SIZE, pretrained=str(path))


class _Opaque:
    """A Python object: weights-only loading must refuse a pickle holding it."""


def test_pickle_with_python_objects_is_refused(tmp_path):
    path = tmp_path / "objects.pt"
    torch.save({"config": _Opaque(), "weight": torch.zeros(2)}, path, pickle_module=pickle)
    with pytest.raises(CheckpointError, match="Python objects"):
        create_backbone("scing-tiny", image_size=TINY_SIZE, pretrained=str(path))


def test_dict_without_tensors_is_refused(tmp_path):
    path = tmp_path / "empty.pt"
    torch.save({"epoch": 3, "note": "no weights"}, path)
    with pytest.raises(CheckpointError, match="no tensors"):
        create_backbone("scing-tiny", image_size=TINY_SIZE, pretrained=str(path))


def test_missing_file_and_unknown_tag_say_so(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        create_backbone("scing-tiny", image_size=TINY_SIZE, pretrained=str(tmp_path / "absent.pt"))
    with pytest.raises(CheckpointError, match="neither a weights file nor an open_clip tag"):
        create_backbone("scing-tiny", image_size=TINY_SIZE, pretrained="openaii")


def test_loading_is_separate_from_building(tmp_path, images):
    torch.manual_seed(7)
    source = create_backbone("scing-tiny", image_size=TINY_SIZE).eval()
    path = tmp_path / "clip.pt"
    torch.save(source.clip.state_dict(), path)
    target = create_backbone("scing-tiny", image_size=TINY_SIZE).eval()
    with torch.no_grad():
        assert not torch.equal(target.forward_features(images).proj, source.forward_features(images).proj)
        load_pretrained(target, str(path))
        assert torch.equal(target.forward_features(images).proj, source.forward_features(images).proj)


# -- the activation the weights imply (QuickGELU for OpenAI's CLIP) ------------------------------------

def _openai_layout(path, backbone):
    state = backbone.clip.state_dict()
    state.update(input_resolution=torch.tensor(64), context_length=torch.tensor(77), vocab_size=torch.tensor(49408))
    torch.save(state, path)
    return path


def test_openai_layout_file_builds_quick_gelu_and_matches_open_clip_quick_gelu(tmp_path, images):
    import open_clip

    from scing_core.models.clip_backbone import built_activation

    torch.manual_seed(7)
    reference = create_backbone("scing-tiny", image_size=TINY_SIZE, activation="quick_gelu").eval()
    path = _openai_layout(tmp_path / "ViT-openai.pt", reference)
    loaded = create_backbone("scing-tiny", image_size=TINY_SIZE, pretrained=str(path)).eval()
    gelu = create_backbone("scing-tiny", image_size=TINY_SIZE, pretrained=str(path), activation="gelu").eval()
    assert loaded.activation == built_activation(loaded) == "quick_gelu" and gelu.activation == "gelu"
    assert any(isinstance(m, open_clip.transformer.QuickGELU) for m in loaded.modules())
    with torch.no_grad():
        assert torch.equal(loaded.forward_features(images).proj, reference.forward_features(images).proj)
        assert not torch.allclose(loaded.forward_features(images).proj, gelu.forward_features(images).proj)


def test_plain_file_stays_gelu_unless_activation_is_set(tmp_path):
    path = tmp_path / "plain.pt"
    torch.save(create_backbone("scing-tiny", image_size=TINY_SIZE).clip.state_dict(), path)
    assert create_backbone("scing-tiny", image_size=TINY_SIZE, pretrained=str(path)).activation == "gelu"
    forced = create_backbone("scing-tiny", image_size=TINY_SIZE, pretrained=str(path), activation="quick_gelu")
    assert forced.activation == "quick_gelu"


def test_file_in_open_clips_cache_of_openai_weights_is_quick_gelu(tmp_path):
    from scing_core.models.weights import WeightsFile, resolve_activation

    folder = tmp_path / "hub" / "models--timm--vit_base_patch16_clip_224.openai" / "snapshots" / "abc"
    folder.mkdir(parents=True)
    path = folder / "open_clip_pytorch_model.bin"
    path.write_bytes(b"")
    activation, reason = resolve_activation("ViT-B-16", str(path), "auto", WeightsFile({}), path)
    assert activation == "quick_gelu" and "cache" in reason
    elsewhere = tmp_path / "open_clip_pytorch_model.bin"
    elsewhere.write_bytes(b"")
    activation, reason = resolve_activation("ViT-B-16", str(elsewhere), "auto", WeightsFile({}), elsewhere)
    assert activation == "gelu" and "model.activation=quick_gelu" in reason


def test_openai_tag_resolves_to_quick_gelu_without_downloading():
    from scing_core.models.weights import resolve_activation

    assert resolve_activation("ViT-B-16", "openai")[0] == "quick_gelu"
    assert resolve_activation("ViT-B-16", "laion2b_s34b_b88k")[0] == "gelu"
    assert resolve_activation("ViT-B-16", "")[0] == "gelu"
