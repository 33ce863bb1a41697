"""Grad-CAM saliency of trained ReID runs (the paper's Fig. 5), with pytorch-grad-cam.

``compute_saliency(run_dir, image_paths, target, method)`` returns one :class:`SaliencyResult` per
image: the de-normalised network input and a CAM in [0, 1] at the same size (each map min-max
normalised by pytorch-grad-cam), plus the share of CAM energy on the person where SynthPed masks
exist. ``saliency_grid_figure`` lays results of several runs out as the paper's figure.

How it hooks the model:

- The layer is the one the backbone names (``backbone.cam_target_layer``): the last ViT block's
  ``ln_1`` (the block output and ``ln_2`` give all-zero maps because only the CLS token is pooled)
  or RN50's last stage. ViT tokens are reshaped to the real patch grid (``backbone.reshape_tokens``:
  CLS dropped, (h, w) = 16x8 at stride 16 or 21x10 at stride 12 for 256x128 inputs).
- pytorch-grad-cam sees a thin wrapper, images -> per-image embedding, that does not register the
  ReID model as a sub-module: the library's ``eval()`` / ``zero_grad()`` never reach it.
- The model must be in eval mode (a training model is refused). Its parameters are frozen for the
  call (restored afterwards), so frozen models work and no weight gradient is computed or disturbed.
  The autograd graph starts at the hooked activation (see :func:`cam_session`), so the backward
  pass only runs through the layers after it. Hooks live in a ``with`` block and are always removed.

Targets are in :mod:`scing_core.analysis.saliency_targets`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytorch_grad_cam
import torch
from torch import nn

from scing_core.analysis.saliency_figure import grid_figure
from scing_core.analysis.saliency_images import load_input, person_mask, to_display_image
from scing_core.analysis.saliency_targets import (
    EmbeddingNorm,
    EmbeddingSimilarity,
    PrototypeSimilarity,
    TargetSpec,
    TrainingIdentities,
    camera_index,
    original_pid,
    parse_target,
    target_note,
)
from scing_core.errors import InputError
from scing_core.registry import Registry
from scing_core.runs.trained import TrainedRun

log = logging.getLogger(__name__)


class CamMethod(NamedTuple):
    cam_class: type
    uses_target: bool  # False: the map does not depend on the target (EigenCAM)
    summary: str


# name -> (pytorch-grad-cam class, does the map depend on the target, what it computes)
_METHOD_TABLE = (
    ("gradcam", "GradCAM", True, "channel weights = spatial mean of the gradient"),
    ("gradcam++", "GradCAMPlusPlus", True, "second-order channel weights"),
    ("xgradcam", "XGradCAM", True, "activation-normalised gradient weights"),
    ("hirescam", "HiResCAM", True, "element-wise gradient x activation, then the channel sum"),
    ("layercam", "LayerCAM", True, "element-wise positive gradient x activation"),
    ("gradcam-elementwise", "GradCAMElementWise", True, "element-wise gradient x activation, ReLU before the sum"),
    ("eigengradcam", "EigenGradCAM", True, "first principal component of gradient x activation"),
    ("eigencam", "EigenCAM", False, "first principal component of the activations (ignores the target)"),
)


def _cam_methods() -> Registry[CamMethod]:
    registry: Registry[CamMethod] = Registry("CAM method")
    for name, class_name, uses_target, summary in _METHOD_TABLE:
        registry.register(name, CamMethod(getattr(pytorch_grad_cam, class_name), uses_target, summary))
    return registry


CAM_METHODS = _cam_methods()


def list_cam_methods() -> list[str]:
    """Names accepted as ``method`` (ScoreCAM / AblationCAM are left out: one forward per channel)."""
    return CAM_METHODS.names()


def describe_cam_methods() -> dict[str, str]:
    """``{method name: what it computes}`` for help texts."""
    return {name: CAM_METHODS.get(name).summary for name in CAM_METHODS.names()}


@dataclass
class SaliencyResult:
    """One image's saliency map under one run.

    ``image``: HxWx3 uint8, the network input (resized, de-normalised); ``cam``: HxW float32 in
    [0, 1] at the same size; ``person_share``: share of CAM energy on the person mask (None without a
    mask, NaN for an all-zero map); ``note``: what the target measured, fallbacks, warnings.
    """

    image: np.ndarray
    cam: np.ndarray
    path: str
    run: str
    target: str
    method: str
    person_share: float | None
    note: str = ""


# -- hooking the model -----------------------------------------------------------------------------


def check_model_for_cam(model: nn.Module) -> None:
    """Refuse a model in training mode (or with any sub-module in it): Grad-CAM must not touch a model
    that is being trained, and dropout / batch statistics would make the maps meaningless."""
    training = [name or "the model" for name, module in model.named_modules() if module.training]
    if training:
        raise InputError(
            f"saliency needs a model in eval mode, but {training[0]} is in training mode "
            f"({len(training)} module(s)); call model.eval() on a copy, or wait until training has finished"
        )


@contextlib.contextmanager
def frozen_parameters(model: nn.Module) -> Iterator[None]:
    """Switch off ``requires_grad`` on every parameter for the block; restore each flag afterwards."""
    flags = [(param, param.requires_grad) for param in model.parameters()]
    for param, _ in flags:
        param.requires_grad_(False)
    try:
        yield
    finally:
        for param, flag in flags:
            param.requires_grad_(flag)


class EmbeddingOutput(nn.Module):
    """What pytorch-grad-cam calls "the model": images -> per-image embedding.

    ``feature`` is ``"proj"`` (projected CLS feature) or ``"descriptor"`` (the inference descriptor).
    The ReID model is held outside the module tree so the library's ``eval()`` / ``zero_grad()``
    apply to this wrapper only; ``device_anchor`` tells the library the device.
    """

    def __init__(self, model: nn.Module, feature: str) -> None:
        super().__init__()
        object.__setattr__(self, "reid_model", model)
        device = next(model.parameters()).device
        self.device_anchor = nn.Parameter(torch.empty(0, device=device), requires_grad=False)
        self.feature = feature
        self.cams: torch.Tensor | None = None  # camera ids of the current batch (SIE models)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if self.feature == "proj":
            return self.reid_model.encode_image(images, self.cams).proj
        return self.reid_model(images, self.cams)


def _start_graph_here(module: nn.Module, inputs, output: torch.Tensor) -> torch.Tensor:
    """Forward hook: the layer's output becomes a leaf that requires grad, so autograd records only
    what follows it (the layers before it run without a graph)."""
    return output.detach().requires_grad_(True)


@contextlib.contextmanager
def cam_session(method: str, model: nn.Module, target_layer: nn.Module, reshape_transform=None,
                short_backward: bool = True):
    """A pytorch-grad-cam object of ``method`` over ``model`` hooked on ``target_layer``; the hooks are
    removed when the block ends, whatever happens in it (the library's own ``__exit__`` would swallow
    an IndexError, so it is not used).

    Grad-CAM needs d(target)/d(activation of the hooked layer) only. With ``short_backward`` the
    hooked activation is made the start of the autograd graph, so the backward pass runs through the
    layers after it (the last ViT block and the head) instead of the whole network down to the
    input; the gradient it gives is the same. Without it, gradients flow from the input.
    Either way the parameters may be frozen.
    """
    spec = CAM_METHODS.get(method)
    with contextlib.ExitStack() as cleanup:  # runs the removals in reverse order, whatever happens
        if short_backward:  # registered before the library's hooks, so they see the graph-starting output
            cleanup.callback(target_layer.register_forward_hook(_start_graph_here).remove)
        cam = spec.cam_class(model=model, target_layers=[target_layer], reshape_transform=reshape_transform)
        cleanup.callback(cam.activations_and_grads.release)
        cam.compute_input_gradient = not short_backward
        yield cam


def run_cam(cam, images: torch.Tensor, targets: Sequence) -> np.ndarray:
    """CAMs [B, H, W] (float32, each in [0, 1]) of ``images`` for one target per image."""
    with torch.inference_mode(False), torch.enable_grad():
        images = images.clone()  # a normal tensor even if the caller made it under inference_mode
        maps = cam(input_tensor=images, targets=list(targets))
        cam.activations_and_grads.clear()
        cam.outputs = None  # drop the retained graph now rather than at the next call
    maps = np.asarray(maps, dtype=np.float32)
    if not np.isfinite(maps).all():
        raise InputError("the saliency map has non-finite values (NaN/inf in the model's gradients); "
                         "check the checkpoint with `scing eval`")
    return maps


# -- the public entry points -----------------------------------------------------------------------


def compute_saliency(
    run_dir,
    image_paths: Sequence[str],
    target: str = "prototype",
    method: str = "gradcam",
    checkpoint: str = "selected",
    device: str = "auto",
    model_bundle=None,
    batch_size: int = 8,
) -> list[SaliencyResult]:
    """Saliency maps of ``image_paths`` under the run at ``run_dir``, one result per image (in order).

    ``target``: ``"prototype"`` | ``"image:PATH"`` | ``"norm"`` (see saliency_targets); ``method``: one
    of :func:`list_cam_methods`. ``model_bundle = (model, cfg, prototypes)`` reuses a loaded model
    (``prototypes`` may be None unless the target is ``prototype``); otherwise the run's
    ``checkpoint`` is loaded on ``device``. The model must be in eval mode.
    """
    spec = parse_target(target)
    CAM_METHODS.get(method)  # an unknown method fails before any loading
    paths = _checked_paths(image_paths)
    if model_bundle is None:
        model_bundle = _load_bundle(run_dir, checkpoint, device, spec)
    model, cfg, prototypes = model_bundle
    check_model_for_cam(model)
    run_name = Path(run_dir).name if run_dir is not None else cfg.name
    with torch.inference_mode(False):  # a GUI worker may hold inference_mode; autograd needs normal tensors
        return _saliency_of_paths(model, cfg, prototypes, paths, spec, method, run_name, max(1, int(batch_size)))


def _saliency_of_paths(model, cfg, prototypes, paths, spec, method, run_name, batch_size) -> list[SaliencyResult]:
    backbone = model.backbone
    make_target = _target_factory(spec, model, cfg, prototypes)
    wrapper = EmbeddingOutput(model, spec.feature)
    device = wrapper.device_anchor.device
    results: list[SaliencyResult] = []
    layer, reshape = backbone.cam_target_layer, backbone.reshape_tokens
    with frozen_parameters(model), cam_session(method, wrapper, layer, reshape) as cam:
        for start in range(0, len(paths), batch_size):
            batch = paths[start:start + batch_size]
            images = torch.stack([load_input(p, cfg.data) for p in batch]).to(device)
            wrapper.cams = _camera_ids(batch, backbone, device)
            targets = [make_target(p) for p in batch]
            maps = run_cam(cam, images, [t for t, _ in targets])
            for path, image, cam_map, (target, note) in zip(batch, images, maps, targets):
                results.append(_result(path, image, cam_map, target, note, run_name, spec, method, cfg))
    return results


def person_share(cam: np.ndarray, mask: np.ndarray) -> float:
    """Share of the CAM's energy (sum of its values) that falls on the person: sum(cam[mask]) / sum(cam).

    ``cam``: HxW, finite, non-negative; ``mask``: HxW boolean or 0/255 person mask of the same size.
    An all-zero map has no energy to share: NaN.
    """
    cam = np.asarray(cam, dtype=np.float64)
    mask = np.asarray(mask)
    if cam.ndim != 2 or mask.shape != cam.shape:
        raise InputError(f"person_share needs a 2-D CAM and a mask of the same shape, "
                         f"got {cam.shape} and {mask.shape}")
    if not np.isfinite(cam).all() or (cam < 0).any():
        raise InputError("person_share needs a finite, non-negative CAM (as compute_saliency returns)")
    total = cam.sum()
    if total <= 0:
        return float("nan")
    return float(cam[mask.astype(bool)].sum() / total)


# -- helpers ---------------------------------------------------------------------------------------


def _checked_paths(image_paths: Sequence[str]) -> list[str]:
    if isinstance(image_paths, (str, Path)):
        image_paths = [image_paths]
    paths = [str(Path(p).expanduser()) for p in image_paths]
    if not paths:
        raise InputError("no images given for saliency; pass at least one image path")
    missing = [p for p in paths if not Path(p).is_file()]
    if missing:
        raise InputError(f"image not found: {', '.join(missing[:3])}{' …' if len(missing) > 3 else ''}")
    return paths


def _load_bundle(run_dir, checkpoint: str, device: str, spec: TargetSpec):
    return TrainedRun.open(run_dir).load(checkpoint, device, prototypes=spec.kind == "prototype")


def _camera_ids(paths: Sequence[str], backbone, device) -> torch.Tensor | None:
    """Camera ids for SIE models (from Market-style names, 0 when unknown or out of range)."""
    if backbone.sie_embed is None:
        return None
    num_cams = backbone.sie_embed.shape[0]
    ids = [camera_index(p) for p in paths]
    return torch.tensor([i if i is not None and 0 <= i < num_cams else 0 for i in ids], device=device)


def _target_factory(spec: TargetSpec, model: nn.Module, cfg, prototypes):
    """path -> (target callable, note) for the images of one call."""
    if spec.kind == "norm":
        return lambda path: (EmbeddingNorm(), "")
    if spec.kind == "image":
        reference = _reference_descriptor(spec.reference, model, cfg)
        return lambda path: (EmbeddingSimilarity(reference), "")
    if prototypes is None:
        raise InputError("target 'prototype' needs the run's prototypes.pt (pass them in model_bundle)")
    device = next(model.parameters()).device
    prototypes = prototypes.detach().float().to(device)
    if prototypes.ndim != 2 or prototypes.shape[1] != model.backbone.embed_dim:
        raise InputError(f"prototypes have shape {tuple(prototypes.shape)}, but the model embeds in "
                         f"{model.backbone.embed_dim} dimensions; are they from the same run?")
    identities = TrainingIdentities.of_run(cfg)

    def make(path: str):
        label = identities.label_of(path)
        if label is not None and label < prototypes.shape[0]:
            return PrototypeSimilarity(prototypes, label), f"training identity (label {label})"
        pid = original_pid(path)
        why = f"pid {pid} is not a training identity" if pid is not None else "no training identity"
        return PrototypeSimilarity(prototypes, None), f"{why}: nearest prototype used"

    return make


def _reference_descriptor(path: str, model: nn.Module, cfg) -> torch.Tensor:
    device = next(model.parameters()).device
    image = load_input(path, cfg.data).unsqueeze(0).to(device)
    with torch.no_grad():
        return model(image, _camera_ids([path], model.backbone, device))[0]


def _result(path, image, cam_map, target, note, run_name, spec, method, cfg) -> SaliencyResult:
    notes = [n for n in (note, target_note(target)) if n]
    if not CAM_METHODS.get(method).uses_target:
        notes.append(f"{method} ignores the target")
    if float(cam_map.max()) <= 0.0:
        notes.append("all-zero map: no positive evidence for the target at the hooked layer")
        log.warning("all-zero saliency map for %s (%s, %s)", path, run_name, method)
    mask = person_mask(path, cam_map.shape)
    share = person_share(cam_map, mask) if mask is not None else None
    return SaliencyResult(
        image=to_display_image(image, cfg.data), cam=cam_map.astype(np.float32), path=str(path), run=run_name,
        target=str(spec), method=method, person_share=share, note="; ".join(notes),
    )


def saliency_grid_figure(results_by_run, out_path) -> Path:
    """The paper's Fig. 5 grid (rows = images, columns = the plain image then one per run), written as
    PNG + PDF; returns the PNG path. See :mod:`scing_core.analysis.saliency_figure`."""
    return grid_figure(results_by_run, out_path)


def mean_person_share(run_dir, dataset_root=None, n_images: int = 32, **options) -> float:
    """Mean person share of ``n_images`` query images of a SynthPed split (higher = the model attends to
    the person rather than the background; compare with the mask area, which a uniform map would get).
    Options as :func:`scing_core.analysis.saliency_share.person_share_summary`."""
    from scing_core.analysis.saliency_share import person_share_summary   # here: that module imports this one

    return person_share_summary(run_dir, dataset_root, n_images=n_images, **options).mean
