"""The ReID model the training engine codes against: backbone + text side + CLIP-ReID heads.

Stage 1 trains the prompt learner only (identity tokens + meta-net / SVIP); stage 2 trains the
image encoder (+ SIE), the BNNecks and the identity classifiers, with the text side frozen.
Inference uses the image encoder only (``forward``).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from scing_core.config.checks import CHOICES
from scing_core.errors import ConfigError, InputError
from scing_core.models.clip_backbone import ClipBackbone, ImageFeatures
from scing_core.models.heads import BNNeck, IdentityClassifier
from scing_core.models.prompts import PromptLearner
from scing_core.models.text_encoder import TextEncoder

TEST_FEATURES = CHOICES["model.test_feature"]
NECK_FEATS = CHOICES["model.neck_feat"]
STAGES = (1, 2)


class TrainOutput(NamedTuple):
    """Stage-2 outputs: raw and BNNeck'd features, and the logits of both identity classifiers."""

    penultimate: torch.Tensor  # [B, D'] CLS after the second-to-last block (CLIP-ReID's layer-11 feature)
    pre_proj: torch.Tensor  # [B, D]
    proj: torch.Tensor  # [B, E]
    bn_pre_proj: torch.Tensor  # [B, D]
    bn_proj: torch.Tensor  # [B, E]
    logits: list[torch.Tensor]  # [classifier(bn_pre_proj), classifier_proj(bn_proj)], each [B, num_classes]


class ReIDModel(nn.Module):
    """CLIP-based ReID model of one method (``clipreid``, ``cocoop`` or ``scing``).

    Attributes: ``backbone``, ``text_encoder``, ``prompt_learner``, ``method``, ``num_classes``,
    ``uses_condition`` (the prompts depend on the image), ``bottleneck`` / ``bottleneck_proj``
    (BNNecks), ``classifier`` / ``classifier_proj``.
    """

    def __init__(
        self,
        backbone: ClipBackbone,
        prompt_learner: PromptLearner,
        method: str,
        num_classes: int,
        test_feature: str = "concat",
        neck_feat: str = "before",
    ) -> None:
        super().__init__()
        if test_feature not in TEST_FEATURES:
            raise ConfigError(f"model.test_feature must be one of {', '.join(TEST_FEATURES)}, got '{test_feature}'")
        if neck_feat not in NECK_FEATS:
            raise ConfigError(f"model.neck_feat must be one of {', '.join(NECK_FEATS)}, got '{neck_feat}'")
        self.backbone = backbone
        self.text_encoder = TextEncoder(backbone.clip)
        self.prompt_learner = prompt_learner
        self.method, self.num_classes = method, int(num_classes)
        self.test_feature, self.neck_feat = test_feature, neck_feat
        self.uses_condition = bool(prompt_learner.conditional)
        width, embed = backbone.visual_width, backbone.embed_dim
        self.bottleneck, self.bottleneck_proj = BNNeck(width), BNNeck(embed)
        self.classifier = IdentityClassifier(width, num_classes)
        self.classifier_proj = IdentityClassifier(embed, num_classes)
        for param in (*backbone.clip.token_embedding.parameters(), backbone.clip.logit_scale):
            param.requires_grad_(False)  # read once to embed the fixed prompt words / never trained here

    # -- image side -----------------------------------------------------------------------------

    def encode_image(self, images: torch.Tensor, cams: torch.Tensor | None = None,
                     skip_sie: bool = False) -> ImageFeatures:
        """CLS features before / after projection: ``ImageFeatures(pre_proj [B, D], proj [B, E])``;
        ``skip_sie`` leaves the SIE camera vector out (stage 1's cache, as CLIP-ReID)."""
        return self.backbone.forward_features(images, cams, skip_sie=skip_sie)

    def forward(self, images: torch.Tensor, cams: torch.Tensor | None = None) -> torch.Tensor:
        """Inference descriptor [B, F] per ``test_feature`` and ``neck_feat`` (image encoder only)."""
        pre_proj, proj = self.encode_image(images, cams)
        if self.neck_feat == "after":
            pre_proj, proj = self.bottleneck(pre_proj), self.bottleneck_proj(proj)
        if self.test_feature == "concat":
            return torch.cat([pre_proj, proj], dim=1)
        return proj if self.test_feature == "proj" else pre_proj

    def forward_train(self, images: torch.Tensor, cams: torch.Tensor | None = None) -> TrainOutput:
        """Features, BNNeck'd features and identity logits for stage 2."""
        penultimate, (pre_proj, proj) = self.backbone.forward_train_features(images, cams)
        bn_pre_proj, bn_proj = self.bottleneck(pre_proj), self.bottleneck_proj(proj)
        logits = [self.classifier(bn_pre_proj), self.classifier_proj(bn_proj)]
        return TrainOutput(penultimate, pre_proj, proj, bn_pre_proj, bn_proj, logits)

    # -- text side ------------------------------------------------------------------------------

    def text_condition(self, feats: ImageFeatures) -> torch.Tensor | None:
        """The image feature the prompt learner conditions on (per its ``cond_source``), or None."""
        if not self.uses_condition:
            return None
        return feats.pre_proj if self.prompt_learner.cond_source == "pre_proj" else feats.proj

    def encode_text(self, labels: torch.Tensor, cond_features: ImageFeatures | None = None) -> torch.Tensor:
        """Text features [B, E] (unnormalised) of the prompts of ``labels``, conditioned on the images'
        features for conditional methods (one prompt per image, for its own identity)."""
        if self.uses_condition and cond_features is None:
            raise InputError(f"method '{self.method}' conditions prompts on images: pass cond_features (encode_image)")
        cond = self.text_condition(cond_features) if cond_features is not None else None
        prompts = self.prompt_learner(labels, cond)
        return self.text_encoder(prompts, self.prompt_learner.eot_indices[labels])

    def encode_text_unconditioned(self, labels: torch.Tensor) -> torch.Tensor:
        """Text features [B, E] of the bare identity prompts (no visual condition, for any method)."""
        prompts = self.prompt_learner.assemble(self.prompt_learner.class_tokens(labels))
        return self.text_encoder(prompts, self.prompt_learner.eot_indices[labels])

    @property
    def logit_scale(self) -> torch.Tensor:
        """exp of the CLIP logit scale (a float tensor, detached)."""
        return self.backbone.logit_scale.detach().exp()

    # -- stages ---------------------------------------------------------------------------------

    def trainable_parameters(self, stage: int) -> list[nn.Parameter]:
        """Stage 1: the prompt learner. Stage 2: image encoder (+ SIE), BNNeck weights, classifiers."""
        if stage == 1:
            return list(self.prompt_learner.parameters())
        if stage == 2:
            params = list(self.backbone.visual.parameters())
            if self.backbone.sie_embed is not None:
                params.append(self.backbone.sie_embed)
            heads = (self.bottleneck.weight, self.bottleneck_proj.weight)
            return params + list(heads) + [self.classifier.weight, self.classifier_proj.weight]
        raise InputError(f"stage must be one of {STAGES}, got {stage!r}")

    def set_stage(self, stage: int) -> None:
        """Freeze everything, then let gradients reach exactly ``trainable_parameters(stage)``."""
        trainable = self.trainable_parameters(stage)
        for param in self.parameters():
            param.requires_grad_(False)
        for param in trainable:
            param.requires_grad_(True)
