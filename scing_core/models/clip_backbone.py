"""The open_clip adapter: a CLIP model (both towers) set up for person ReID.

``create_backbone`` builds an open_clip CLIP from an architecture name, adapts its image tower to
the ReID input (``image_size`` HxW, ViT patch ``stride``; positional embedding resized bilinearly
with the CLS position kept), optionally adds SIE camera embeddings, then loads weights if asked.
Building never loads weights by itself: :func:`scing_core.models.weights.load_pretrained` does.

SIE (side information embedding): ``sie_coef * sie_embed[cam]`` is added to the CLS token only —
the project's reading of the paper (docs/design.md), and what CLIP-ReID's code does too
(``x[:, 0] = x[:, 0] + cv_emb``); TransReID, where SIE comes from, adds it to every token. A test
image from a camera the training set does not have (camera id -1: another dataset's test set) gets
the mean of the learned camera embeddings: the project's reading (docs/fidelity.md, "SIE").
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import NamedTuple

import open_clip
import torch
from open_clip.modified_resnet import ModifiedResNet
from open_clip.transformer import QuickGELU, VisionTransformer
from torch import nn

from scing_core.errors import ConfigError, InputError
from scing_core.models.archs import arch_config
from scing_core.models.pos_embed import resize_grid_embedding
from scing_core.models.weights import load_pretrained, read_weights, resolve_activation, resolve_source

log = logging.getLogger(__name__)

RESNET_REDUCTION = 32  # ModifiedResNet's total down-sampling


class ImageFeatures(NamedTuple):
    """The image CLS feature before (``pre_proj`` [B, D]) and after (``proj`` [B, E]) CLIP's projection."""

    pre_proj: torch.Tensor
    proj: torch.Tensor


class ClipBackbone(nn.Module):
    """An open_clip ``CLIP`` (``self.clip``) whose image tower runs at a ReID input size.

    Attributes: ``arch``, ``image_size`` (H, W), ``stride``, ``grid`` (token / feature-map grid
    (h, w)), ``visual_width`` (D), ``embed_dim`` (E), ``text_width`` (d), ``is_vit``,
    ``cam_target_layer`` (the module Grad-CAM should hook), ``sie_embed`` (or None), ``activation``
    (``gelu`` | ``quick_gelu``: the MLP activation it was built with).
    """

    def __init__(
        self,
        clip_model: open_clip.CLIP,
        arch: str,
        image_size: tuple[int, int] = (256, 128),
        stride: int = 16,
        sie_cameras: int = 0,
        sie_coef: float = 1.0,
    ) -> None:
        super().__init__()
        self.clip = clip_model
        self.arch = arch
        self.image_size = (int(image_size[0]), int(image_size[1]))
        self.stride = int(stride)
        self.sie_coef = float(sie_coef)
        self.is_vit = isinstance(clip_model.visual, VisionTransformer)
        self.activation = built_activation(clip_model)
        grid = self._adapt_vit() if self.is_vit else self._adapt_resnet(sie_cameras)
        self.grid = grid
        # the grid the positional embedding is laid out on, saved so weights can be resized on load
        self.register_buffer("pos_grid", torch.tensor(grid, dtype=torch.long))
        if sie_cameras > 0:
            self.sie_embed = nn.Parameter(torch.zeros(int(sie_cameras), self.visual_width))
            nn.init.trunc_normal_(self.sie_embed, std=0.02)
        else:
            self.register_parameter("sie_embed", None)

    # -- set-up ---------------------------------------------------------------------------------

    def _adapt_vit(self) -> tuple[int, int]:
        visual = self.clip.visual
        if visual.attn_pool is not None or visual.pool_type != "tok" or visual.final_ln_after_pool:
            raise ConfigError(
                f"architecture '{self.arch}' pools its ViT tokens differently from CLIP (pool_type="
                f"'{visual.pool_type}'); use a CLS-token CLIP ViT such as ViT-B-16 or a project arch"
            )
        patch_h, patch_w = visual.patch_size
        height, width = self.image_size
        if not 1 <= self.stride <= min(patch_h, patch_w):
            raise ConfigError(f"model.stride={self.stride} must be between 1 and the patch size {patch_h}")
        if height < patch_h or width < patch_w:
            raise ConfigError(f"image size {height}x{width} is smaller than one {patch_h}x{patch_w} patch")
        grid = ((height - patch_h) // self.stride + 1, (width - patch_w) // self.stride + 1)
        visual.conv1.stride = (self.stride, self.stride)
        old_grid = tuple(visual.grid_size)
        resized = resize_grid_embedding(visual.positional_embedding.data, old_grid, grid)
        visual.positional_embedding = nn.Parameter(resized)
        visual.grid_size, visual.image_size = grid, self.image_size
        return grid

    def _adapt_resnet(self, sie_cameras: int) -> tuple[int, int]:
        visual = self.clip.visual
        if not isinstance(visual, ModifiedResNet):
            raise ConfigError(
                f"architecture '{self.arch}' has a {type(visual).__name__} image tower; "
                "supported: CLIP ViTs (e.g. ViT-B-16, scing-tiny, synthclip-s) and ModifiedResNet (e.g. RN50)"
            )
        if sie_cameras > 0:
            raise ConfigError(f"SIE camera embeddings need a ViT backbone; set model.sie=false for {self.arch}")
        if self.stride != 16:
            raise ConfigError(f"model.stride applies to ViT backbones only; leave it at 16 for {self.arch}")
        height, width = self.image_size
        if height % RESNET_REDUCTION or width % RESNET_REDUCTION:
            raise ConfigError(f"{self.arch} needs an image size divisible by 32, got {height}x{width}")
        grid = (height // RESNET_REDUCTION, width // RESNET_REDUCTION)
        pool = visual.attnpool
        side = round((pool.positional_embedding.shape[0] - 1) ** 0.5)
        pool.positional_embedding = nn.Parameter(resize_grid_embedding(pool.positional_embedding.data, (side, side), grid))
        visual.image_size = self.image_size
        return grid

    # -- attributes -----------------------------------------------------------------------------

    @property
    def visual(self) -> nn.Module:
        return self.clip.visual

    @property
    def visual_width(self) -> int:
        """D: width of the CLS feature before projection (768 for ViT-B-16, 2048 for RN50)."""
        visual = self.clip.visual
        return visual.conv1.out_channels if self.is_vit else visual.attnpool.k_proj.in_features

    @property
    def sie_cameras(self) -> int:
        """SIE camera embeddings this backbone has (0: no SIE)."""
        return 0 if self.sie_embed is None else int(self.sie_embed.shape[0])

    def camera_embeddings(self, cams: torch.Tensor) -> torch.Tensor:
        """SIE vectors [B, D] of camera ids ``cams`` [B]; an id of -1 is an unknown camera (a test set whose
        cameras are not the training set's) and gets the mean of the learned camera embeddings."""
        if self.training:   # the training set's own cameras; no host sync per step
            return self.sie_embed[cams]
        known = cams >= 0
        if int(cams.max()) >= self.sie_cameras:
            raise InputError(f"camera id {int(cams.max())} is not one of the training set's {self.sie_cameras} "
                             "cameras; evaluate another dataset's images with unknown cameras (-1)")
        vectors = self.sie_embed[cams.clamp(min=0)]
        if bool(known.all()):
            return vectors
        return torch.where(known[:, None], vectors, self.sie_embed.mean(0, keepdim=True).expand_as(vectors))

    @property
    def embed_dim(self) -> int:
        """E: width of the joint image-text space (512 for ViT-B-16, 1024 for RN50)."""
        visual = self.clip.visual
        return visual.proj.shape[1] if self.is_vit else visual.attnpool.c_proj.out_features

    @property
    def text_width(self) -> int:
        """d: width of the text transformer's token embeddings."""
        return self.clip.token_embedding.embedding_dim

    @property
    def cam_target_layer(self) -> nn.Module:
        """The layer Grad-CAM should hook: the last block's ``ln_1`` (ViT) or the last stage (RN50)."""
        visual = self.clip.visual
        return visual.transformer.resblocks[-1].ln_1 if self.is_vit else visual.layer4

    @property
    def logit_scale(self) -> torch.Tensor:
        """The CLIP model's logit scale parameter (log space, as open_clip stores it)."""
        return self.clip.logit_scale

    # -- forward --------------------------------------------------------------------------------

    def _check_inputs(self, images: torch.Tensor, cams: torch.Tensor | None, skip_sie: bool = False) -> None:
        if images.ndim != 4 or images.shape[1] != 3:
            raise InputError(f"images must be [B, 3, H, W], got {tuple(images.shape)}")
        if tuple(images.shape[-2:]) != self.image_size:
            raise InputError(
                f"images are {images.shape[-2]}x{images.shape[-1]} but the backbone was built for "
                f"{self.image_size[0]}x{self.image_size[1]}; resize them (data.image_size) or rebuild the model"
            )
        if self.sie_embed is not None and cams is None and not skip_sie:
            raise InputError("this backbone has SIE camera embeddings: pass the camera ids (cams) with the images")

    def _vit_blocks(self, images: torch.Tensor, cams: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """ViT tokens after the second-to-last block and after the last block, both before ``ln_post``
        ([B, 1 + gh*gw, D] each, CLS first). SIE is added to the CLS token when ``cams`` is given."""
        visual = self.clip.visual
        x = visual.conv1(images)  # [B, D, gh, gw]
        x = x.flatten(2).transpose(1, 2)  # [B, gh*gw, D]
        cls = visual.class_embedding.to(x.dtype).view(1, 1, -1).expand(x.shape[0], -1, -1)
        if self.sie_embed is not None and cams is not None:
            cls = cls + self.sie_coef * self.camera_embeddings(cams).to(x.dtype).unsqueeze(1)
        x = torch.cat([cls, x], dim=1) + visual.positional_embedding.to(x.dtype)
        x = visual.ln_pre(visual.patch_dropout(x))
        transformer = visual.transformer
        blocks = list(transformer.resblocks)
        if not getattr(transformer, "batch_first", True):
            x = x.transpose(0, 1)
        for block in blocks[:-1]:
            x = block(x)
        penultimate = x
        x = blocks[-1](x)
        if not getattr(transformer, "batch_first", True):
            penultimate, x = penultimate.transpose(0, 1), x.transpose(0, 1)
        return penultimate, x

    def _vit_tokens(self, images: torch.Tensor, cams: torch.Tensor | None) -> torch.Tensor:
        return self.clip.visual.ln_post(self._vit_blocks(images, cams)[1])  # [B, 1 + gh*gw, D]

    def forward_tokens(self, images: torch.Tensor, cams: torch.Tensor | None = None) -> torch.Tensor:
        """ViT: the final tokens after ``ln_post`` [B, 1 + gh*gw, D] (CLS first); RN50: the last
        stage's feature map flattened to [B, gh*gw, D]."""
        self._check_inputs(images, cams)
        if self.is_vit:
            return self._vit_tokens(images, cams)
        return self._resnet_maps(images)[1].flatten(2).transpose(1, 2)

    def _resnet_maps(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The third and the last stage's feature maps ([B, 1024, 2gh, 2gw], [B, 2048, gh, gw])."""
        visual = self.clip.visual
        x = visual.stem(images)
        for stage in (visual.layer1, visual.layer2, visual.layer3):
            x = stage(x)
        return x, visual.layer4(x)

    def forward_features(self, images: torch.Tensor, cams: torch.Tensor | None = None,
                         skip_sie: bool = False) -> ImageFeatures:
        """CLS feature before and after projection.

        ViT: ``pre_proj = ln_post(CLS)``, ``proj = pre_proj @ proj``. RN50 (as CLIP-ReID): ``pre_proj``
        = global average of the last stage, ``proj`` = CLIP's attention pool. ``skip_sie`` encodes
        without the SIE camera vector (CLIP-ReID's stage 1 does; ``cams`` may then be None).
        """
        self._check_inputs(images, cams, skip_sie)
        cams = None if skip_sie else cams
        if self.is_vit:
            return self.features_from_trunk(self._vit_blocks(images, cams)[1][:, 0])
        feature_map = self._resnet_maps(images)[1]
        return ImageFeatures(feature_map.mean(dim=(2, 3)), self.clip.visual.attnpool(feature_map))

    def forward_train_features(self, images: torch.Tensor,
                               cams: torch.Tensor | None = None) -> tuple[torch.Tensor, ImageFeatures]:
        """``(penultimate, ImageFeatures)``: the CLS token after the second-to-last block (ViT, before
        any norm; CLIP-ReID's ``img_feature_last``, layer 11 of ViT-B-16) or the pooled third stage
        (RN50), with the usual features."""
        self._check_inputs(images, cams)
        if self.is_vit:
            penultimate, last = self._vit_blocks(images, cams)
            return penultimate[:, 0], self.features_from_trunk(last[:, 0])
        third, feature_map = self._resnet_maps(images)
        features = ImageFeatures(feature_map.mean(dim=(2, 3)), self.clip.visual.attnpool(feature_map))
        return third.mean(dim=(2, 3)), features

    def forward_trunk(self, images: torch.Tensor) -> torch.Tensor | None:
        """ViT: the CLS token of the final feature map, before ``ln_post`` [B, D], encoded without
        SIE (what PDCA's feature dropout perturbs in stage 1); None for RN50, whose final map is
        pooled by attention."""
        self._check_inputs(images, None, skip_sie=True)
        if not self.is_vit:
            return None
        return self._vit_blocks(images, None)[1][:, 0]

    def features_from_trunk(self, trunk: torch.Tensor) -> ImageFeatures:
        """ViT: ``ln_post`` and the projection of a final-map CLS token [B, D] (see ``forward_trunk``)."""
        pre_proj = self.clip.visual.ln_post(trunk)
        return ImageFeatures(pre_proj, pre_proj @ self.clip.visual.proj)

    def forward(self, images: torch.Tensor, cams: torch.Tensor | None = None) -> ImageFeatures:
        return self.forward_features(images, cams)

    def reshape_tokens(self, tokens: torch.Tensor) -> torch.Tensor:
        """Grad-CAM's reshape transform: ViT tokens [B, 1+gh*gw, D] -> [B, D, gh, gw] (CLS dropped);
        a [B, C, gh, gw] map (RN50) passes through."""
        if tokens.ndim == 4:
            return tokens
        patches = tokens[:, 1:] if tokens.shape[1] == self.grid[0] * self.grid[1] + 1 else tokens
        return patches.transpose(1, 2).reshape(tokens.shape[0], -1, *self.grid)


def built_activation(model: nn.Module) -> str:
    """``quick_gelu`` when ``model`` holds open_clip's QuickGELU modules, else ``gelu``: read off the network."""
    return "quick_gelu" if any(isinstance(m, QuickGELU) for m in model.modules()) else "gelu"


@contextlib.contextmanager
def _quiet_open_clip_factory():
    """open_clip's factory logs 'initialized randomly' on the root logger; weights come later here."""

    def drop(record: logging.LogRecord) -> bool:
        return not (record.module == "factory" and record.levelno < logging.ERROR)

    root = logging.getLogger()
    root.addFilter(drop)
    try:
        yield
    finally:
        root.removeFilter(drop)


def create_backbone(
    arch: str,
    pretrained: str | None = None,
    image_size: tuple[int, int] = (256, 128),
    stride: int = 16,
    sie_cameras: int = 0,
    sie_coef: float = 1.0,
    activation: str = "auto",
) -> ClipBackbone:
    """Build an open_clip architecture as a ReID backbone, then load ``pretrained`` if given.

    ``pretrained``: an open_clip tag (e.g. ``"openai"``, fetched through open_clip's cache) or a local
    weights file. ``activation``: "quick_gelu" | "gelu" | "auto" = what the weights imply (OpenAI's
    weights, as a tag or as a file: QuickGELU; see :func:`scing_core.models.weights.resolve_activation`).
    The backbone's ``activation`` says which one it was built with.
    """
    arch_config(arch)  # unknown names fail here with the list of valid ones
    if len(tuple(image_size)) != 2 or min(int(s) for s in image_size) <= 0:
        raise ConfigError(f"image_size must be (height, width) in pixels, got {image_size!r}")
    if sie_cameras < 0:
        raise ConfigError(f"sie_cameras must be >= 0, got {sie_cameras}")
    weights_file = resolve_source(arch, pretrained) if pretrained else None  # fail before the (slow) build
    contents = read_weights(weights_file) if weights_file is not None else None
    is_file = bool(pretrained) and Path(pretrained).expanduser().is_file()
    activation, reason = resolve_activation(arch, pretrained or "", activation, contents,
                                            weights_file if is_file else None)
    log.info("%s built with %s (%s)", arch, activation, reason)
    with _quiet_open_clip_factory():
        clip_model = open_clip.create_model(arch, pretrained=None, force_quick_gelu=activation == "quick_gelu")
    if not isinstance(clip_model, open_clip.CLIP):
        raise ConfigError(f"architecture '{arch}' is a {type(clip_model).__name__}; only plain CLIP models are supported")
    backbone = ClipBackbone(clip_model, arch, tuple(image_size), stride, sie_cameras, sie_coef)
    if weights_file is not None:
        load_pretrained(backbone, str(weights_file), contents)
    return backbone
