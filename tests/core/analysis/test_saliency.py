"""Grad-CAM saliency: patch grids, the (h, w) reshape, hooks, targets, person share, the grid figure, `scing cam`."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

from scing_core.analysis.figure_io import save_figure
from scing_core.analysis.saliency import (
    EmbeddingOutput,
    cam_session,
    compute_saliency,
    list_cam_methods,
    mean_person_share,
    person_share,
    run_cam,
    saliency_grid_figure,
)
from scing_core.analysis.saliency_share import person_share_summary
from scing_core.analysis.saliency_targets import PrototypeSimilarity
from scing_core.config.schema import DataConfig, ModelConfig, TrainConfig
from scing_core.data import load_dataset
from scing_core.errors import InputError, RegistryError
from scing_core.models import build_model

from tests.support import strict_json


def tiny_bundle(root=None, image_size=(64, 32), arch="scing-tiny", stride=16, method="clipreid", classes=16):
    """A random-init eval model of ``arch`` + its config (data.root = ``root``) + random prototypes."""
    torch.manual_seed(0)
    cfg = TrainConfig(
        model=dataclasses.replace(ModelConfig(), method=method, arch=arch, pretrained="", stride=stride),
        data=dataclasses.replace(DataConfig(), image_size=image_size, root=str(root or "missing")),
    )
    model = build_model(cfg, classes, 3).eval()
    prototypes = torch.nn.functional.normalize(torch.randn(classes, model.backbone.embed_dim), dim=1)
    return model, cfg, prototypes


def hooked_grid(model, image_size) -> tuple[int, ...]:
    """The (h, w) of the activation map pytorch-grad-cam sees at the backbone's CAM layer."""
    seen = []

    def reshape(tokens):
        grid = model.backbone.reshape_tokens(tokens)
        seen.append(tuple(grid.shape[-2:]))
        return grid

    wrapper = EmbeddingOutput(model, "descriptor")
    with cam_session("gradcam", wrapper, model.backbone.cam_target_layer, reshape) as cam:
        maps = run_cam(cam, torch.randn(2, 3, *image_size), [lambda e: e.norm()] * 2)
    assert maps.shape == (2, *image_size)
    return seen[0]


def registered_hooks(model) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks) for m in model.modules())


def query_images(root, count=3) -> list[str]:
    return [s.path for s in sorted(load_dataset("synthped", root).query, key=lambda s: s.path)[:count]]


# -- grids and the token reshape ---------------------------------------------------------------------


@pytest.mark.parametrize("stride, grid", [(16, (4, 2)), (12, (5, 2))])
def test_vit_cam_sees_the_patch_grid_at_each_stride(stride, grid):
    model, _, _ = tiny_bundle(stride=stride)
    assert hooked_grid(model, (64, 32)) == model.backbone.grid == grid


@pytest.mark.slow
@pytest.mark.parametrize("stride, grid", [(16, (16, 8)), (12, (21, 10))])
def test_vit_b16_cam_grid_at_256x128(stride, grid):
    model, _, _ = tiny_bundle(image_size=(256, 128), arch="ViT-B-16", stride=stride)
    assert hooked_grid(model, (256, 128)) == grid


@pytest.mark.slow
def test_rn50_cam_hooks_the_last_stage_without_reshape():
    model, _, _ = tiny_bundle(image_size=(256, 128), arch="RN50")
    assert model.backbone.cam_target_layer is model.backbone.clip.visual.layer4
    assert hooked_grid(model, (256, 128)) == (8, 4)


class LastBlockInput(torch.nn.Module):
    """Outputs the tokens of the hooked ``ln_1`` itself, so a target can depend on one patch only."""

    def __init__(self, backbone):
        super().__init__()
        self.backbone = backbone

    def forward(self, images):
        captured = []
        handle = self.backbone.cam_target_layer.register_forward_hook(lambda m, i, out: captured.append(out))
        try:
            self.backbone.forward_tokens(images)
        finally:
            handle.remove()
        return captured[0]


def brightest_cell(backbone, reshape, row, col) -> tuple[int, int]:
    """Grid cell (of the real h x w grid) where HiResCAM peaks for a target on patch (row, col) only."""
    grid_h, grid_w = backbone.grid
    token = 1 + row * grid_w + col  # tokens are laid out row-major after the CLS token
    with cam_session("hirescam", LastBlockInput(backbone), backbone.cam_target_layer, reshape) as cam:
        maps = run_cam(cam, torch.randn(1, 3, *backbone.image_size), [lambda out: out[token].abs().sum()])
    y, x = np.unravel_index(np.argmax(maps[0]), maps[0].shape)
    return int(y * grid_h // maps.shape[1]), int(x * grid_w // maps.shape[2])


def test_one_patch_target_lights_up_that_patch_and_a_swapped_reshape_would_not():
    model, _, _ = tiny_bundle(image_size=(96, 48))  # a 6x3 grid
    backbone = model.backbone

    def swapped(tokens):  # the classic bug: (w, h) instead of (h, w); it runs without error
        return tokens[:, 1:].transpose(1, 2).reshape(tokens.shape[0], -1, backbone.grid[1], backbone.grid[0])

    for row, col in [(5, 0), (0, 2), (2, 1)]:  # bottom-left, top-right, middle
        assert brightest_cell(backbone, backbone.reshape_tokens, row, col) == (row, col)
    assert brightest_cell(backbone, swapped, 5, 0) != (5, 0)


# -- maps, hooks, model state --------------------------------------------------------------------------


@pytest.mark.parametrize("method", list_cam_methods())
def test_every_method_gives_finite_non_constant_maps_at_input_size(tiny_synthped, method):
    bundle = tiny_bundle(tiny_synthped)
    for result in compute_saliency(None, query_images(tiny_synthped, 2), method=method, model_bundle=bundle):
        assert result.cam.shape == (64, 32) and result.cam.dtype == np.float32
        assert result.image.shape == (64, 32, 3) and result.image.dtype == np.uint8
        assert np.isfinite(result.cam).all() and 0.0 <= result.cam.min() and result.cam.max() <= 1.0
        assert result.cam.std() > 1e-2, f"{method} gave a constant map"
        assert result.method == method


def test_trained_run_maps_are_valid_and_all_zero_ones_are_flagged(tiny_runs, tiny_synthped):
    results = compute_saliency(tiny_runs["cocoop"], query_images(tiny_synthped, 4), method="layercam", device="cpu")
    for result in results:
        assert result.run == "cocoop" and np.isfinite(result.cam).all() and result.cam.max() <= 1.0
        if result.cam.max() > 0:
            assert result.cam.std() > 1e-2 and 0.0 <= result.person_share <= 1.0
        else:  # ReLU(sum) found no positive evidence anywhere: said so, and no share to report
            assert "all-zero map" in result.note and math.isnan(result.person_share)


def test_hooks_are_removed_and_model_state_restored(tiny_synthped):
    model, cfg, prototypes = tiny_bundle(tiny_synthped)
    params = list(model.parameters())
    for i, param in enumerate(params):
        param.requires_grad_(i % 3 == 0)
    flags = [p.requires_grad for p in params]
    params[0].grad = torch.full_like(params[0], 7.0)
    compute_saliency(None, query_images(tiny_synthped, 2), model_bundle=(model, cfg, prototypes))
    assert registered_hooks(model) == 0
    assert [p.requires_grad for p in params] == flags
    assert torch.all(params[0].grad == 7.0) and all(p.grad is None for p in params[1:])
    assert not model.training


def test_maps_do_not_depend_on_batching_or_the_callers_grad_mode(tiny_synthped):
    bundle = tiny_bundle(tiny_synthped)
    images = query_images(tiny_synthped, 3)
    batched = compute_saliency(None, images, model_bundle=bundle, batch_size=8)
    one_by_one = compute_saliency(None, images, model_bundle=bundle, batch_size=1)
    with torch.inference_mode():  # a GUI worker may hold inference mode
        under_inference = compute_saliency(None, images, model_bundle=bundle)
    for a, b, c in zip(batched, one_by_one, under_inference):
        np.testing.assert_allclose(a.cam, b.cam, atol=1e-4)
        np.testing.assert_allclose(a.cam, c.cam, atol=1e-6)


@pytest.mark.parametrize("method", ["gradcam", "layercam", "gradcam++"])
def test_short_backward_gives_the_maps_of_a_full_backward_to_the_input(method):
    model, _, prototypes = tiny_bundle()
    images = torch.randn(3, 3, 64, 32, generator=torch.Generator().manual_seed(1))
    maps = {}
    for short in (True, False):
        wrapper = EmbeddingOutput(model, "proj")
        targets = [PrototypeSimilarity(prototypes, label) for label in (0, 3, None)]
        with cam_session(method, wrapper, model.backbone.cam_target_layer, model.backbone.reshape_tokens,
                         short_backward=short) as cam:
            maps[short] = run_cam(cam, images, targets)
    assert maps[True].std() > 1e-2
    np.testing.assert_allclose(maps[True], maps[False], atol=1e-4)
    assert registered_hooks(model) == 0


def test_hooks_are_removed_when_the_target_fails(tiny_synthped):
    model, _, _ = tiny_bundle(tiny_synthped)

    def broken_target(embedding):
        raise IndexError("target bug")

    with pytest.raises(IndexError):  # pytorch-grad-cam's own __exit__ would swallow this one
        with cam_session("gradcam", EmbeddingOutput(model, "proj"), model.backbone.cam_target_layer,
                         model.backbone.reshape_tokens) as cam:
            run_cam(cam, torch.randn(1, 3, 64, 32), [broken_target])
    assert registered_hooks(model) == 0


def test_a_training_model_is_refused_and_left_untouched(tiny_synthped):
    model, cfg, prototypes = tiny_bundle(tiny_synthped)
    model.train()
    with pytest.raises(InputError, match="training"):
        compute_saliency(None, query_images(tiny_synthped, 1), model_bundle=(model, cfg, prototypes))
    assert model.training and registered_hooks(model) == 0
    model.eval()
    model.backbone.visual.transformer.resblocks[0].train()  # one sub-module left in training mode is enough
    with pytest.raises(InputError, match="resblocks.0 is in training mode"):
        compute_saliency(None, query_images(tiny_synthped, 1), model_bundle=(model, cfg, prototypes))


def test_unknown_method_and_target_list_the_valid_ones(tiny_synthped):
    bundle = tiny_bundle(tiny_synthped)
    image = query_images(tiny_synthped, 1)
    with pytest.raises(RegistryError, match="Did you mean 'gradcam'.*layercam"):
        compute_saliency(None, image, method="gradcm", model_bundle=bundle)
    with pytest.raises(InputError, match="'prototype', 'image:PATH' or 'norm'"):
        compute_saliency(None, image, target="class", model_bundle=bundle)
    with pytest.raises(InputError, match="not found"):
        compute_saliency(None, image, target="image:/no/such.png", model_bundle=bundle)
    with pytest.raises(InputError, match="image not found"):
        compute_saliency(None, ["/no/such.png"], model_bundle=bundle)


# -- targets -----------------------------------------------------------------------------------------


def test_prototype_target_uses_the_training_identity_or_says_it_fell_back(tiny_synthped):
    bundle = tiny_bundle(tiny_synthped)
    dataset = load_dataset("synthped", tiny_synthped)
    train = sorted(dataset.train, key=lambda s: s.path)[5]
    train_result, query_result = compute_saliency(None, [train.path, query_images(tiny_synthped, 1)[0]], model_bundle=bundle)
    assert f"training identity (label {train.pid})" in train_result.note
    assert f"cos to prototype {train.pid} =" in train_result.note
    assert "is not a training identity: nearest prototype used" in query_result.note
    assert train_result.target == "prototype"


def test_image_pair_and_norm_targets_explain_the_descriptor(tiny_synthped):
    bundle = tiny_bundle(tiny_synthped)
    query, other = query_images(tiny_synthped, 2)
    (self_pair,) = compute_saliency(None, [query], target=f"image:{query}", model_bundle=bundle)
    assert "cos to reference = 1.000" in self_pair.note and self_pair.target == f"image:{query}"
    (pair,) = compute_saliency(None, [query], target=f"image:{other}", model_bundle=bundle)
    (norm,) = compute_saliency(None, [query], target="norm", method="layercam", model_bundle=bundle)
    assert not np.allclose(pair.cam, self_pair.cam) and norm.cam.std() > 1e-3


# -- person share ------------------------------------------------------------------------------------


def test_person_share_is_the_energy_fraction_on_the_mask():
    cam = np.array([[0.5, 0.5], [1.0, 0.0]], dtype=np.float32)
    assert person_share(cam, np.array([[1, 0], [1, 0]], dtype=bool)) == pytest.approx(1.5 / 2.0)
    assert person_share(cam, np.array([[255, 255], [0, 0]], dtype=np.uint8)) == pytest.approx(1.0 / 2.0)
    assert person_share(cam, np.zeros((2, 2), bool)) == 0.0
    assert math.isnan(person_share(np.zeros((2, 2)), np.ones((2, 2), bool)))
    with pytest.raises(InputError, match="same shape"):
        person_share(cam, np.ones((3, 2), bool))
    with pytest.raises(InputError, match="non-negative"):
        person_share(-cam, np.ones((2, 2), bool))


def test_synthped_images_get_a_person_share_and_others_none(tiny_synthped, tmp_path):
    from PIL import Image

    bundle = tiny_bundle(tiny_synthped)
    outside = tmp_path / "crop.png"
    Image.new("RGB", (32, 64), (120, 90, 60)).save(outside)
    inside, other = compute_saliency(None, [query_images(tiny_synthped, 1)[0], str(outside)], model_bundle=bundle)
    assert 0.0 <= inside.person_share <= 1.0
    assert other.person_share is None


def test_mean_person_share_over_query_images(tiny_runs, tiny_synthped):
    summary = person_share_summary(tiny_runs["scing"], tiny_synthped, n_images=6, device="cpu")
    assert summary.n_images + summary.n_zero_maps == 6 and summary.split == "query"
    assert 0.0 < summary.mask_area < 1.0 and 0.0 <= summary.mean <= 1.0
    assert summary.mean == pytest.approx(np.mean([s for _, s in summary.per_image if not math.isnan(s)]))
    assert mean_person_share(tiny_runs["scing"], tiny_synthped, n_images=6, device="cpu") == pytest.approx(summary.mean)


# -- figure and command ------------------------------------------------------------------------------


def test_grid_figure_needs_the_same_images_in_every_run(tiny_synthped, tmp_path):
    bundle = tiny_bundle(tiny_synthped)
    first, second = query_images(tiny_synthped, 2)
    a = compute_saliency(None, [first], model_bundle=bundle)
    b = compute_saliency(None, [second], model_bundle=bundle)
    with pytest.raises(InputError, match="same image list"):
        saliency_grid_figure({"a": a, "b": b}, tmp_path / "grid.png")
    png = saliency_grid_figure({"a": a, "b": a}, tmp_path / "grid.png")
    assert png.is_file() and png.with_suffix(".pdf").is_file()


def test_save_figure_writes_png_and_pdf_and_rejects_other_formats(tmp_path):
    import matplotlib.pyplot as plt

    with pytest.raises(InputError, match=".png or .pdf"):
        save_figure(plt.figure(), tmp_path / "fig.svg")
    png = save_figure(plt.figure(), tmp_path / "sub" / "fig.pdf")
    assert png == tmp_path / "sub" / "fig.png" and png.is_file() and png.with_suffix(".pdf").is_file()
    assert not list((tmp_path / "sub").glob(".*tmp"))


def test_scing_cam_draws_the_grid_and_prints_person_shares(tiny_runs, tiny_synthped, tmp_path, capsys):
    from scing_core.cli import main as scing

    images = query_images(tiny_synthped, 2)
    out = tmp_path / "cam.png"
    args = ["cam", "--run-dir", str(tiny_runs["clipreid"]), "--run-dir", str(tiny_runs["scing"]),
            "--image", *images, "--method", "gradcam++", "--device", "cpu", "--out", str(out), "--json"]
    assert scing(args) == 0
    report = strict_json(capsys.readouterr().out)
    assert out.is_file() and out.with_suffix(".pdf").is_file() and report["figure"] == str(out)
    assert [(r["run"], r["image"]) for r in report["results"]] == [(run, i) for run in ("clipreid", "scing") for i in images]
    assert all(0.0 <= r["person_share"] <= 1.0 for r in report["results"])
    assert set(report["mean_person_share"]) == {"clipreid", "scing"} and report["method"] == "gradcam++"
    assert scing(["cam", "--run-dir", str(tiny_runs["scing"]), "--image", images[0], "--method", "nope",
                  "--out", str(out)]) == 2
    assert "unknown CAM method 'nope'" in capsys.readouterr().err
