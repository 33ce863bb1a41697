"""``create_reid_model``: a ReIDModel of one method, from explicit arguments; ``build_model`` maps a
TrainConfig onto them (the one place that does)."""

from __future__ import annotations

from scing_core.config.schema import ModelConfig, TrainConfig
from scing_core.errors import ConfigError
from scing_core.models.clip_backbone import create_backbone
from scing_core.models.prompts import METHODS, create_prompt_learner
from scing_core.models.reid_model import ReIDModel


def build_model(cfg: TrainConfig, num_classes: int, num_cams: int) -> ReIDModel:
    """The model ``cfg`` asks for: its ``model`` section at its ``data.image_size``."""
    return create_reid_model(cfg.model, tuple(cfg.data.image_size), num_classes, num_cams)


def create_reid_model(model_cfg: ModelConfig, image_size: tuple[int, int], num_classes: int, num_cams: int) -> ReIDModel:
    """Build ``model_cfg.method`` over ``model_cfg.arch`` at ``image_size`` (H, W) for ``num_classes`` identities.

    Weights come from ``model_cfg.pretrained`` (an open_clip tag or a local file; "" = random init).
    With ``model_cfg.sie`` the backbone gets one SIE camera embedding per camera of the training set
    (``num_cams``: its real cameras; 0 where its camera ids are not cameras, e.g. P-DukeMTMC's image
    kinds, and then no SIE is built).
    The prompt learner is built after the weights are loaded, so its fixed prompt words are
    embedded with the pre-trained token embedding.
    """
    METHODS.get(model_cfg.method)  # an unknown method fails before any building
    if num_classes < 1:
        raise ConfigError(f"num_classes must be >= 1 (identities in the training set), got {num_classes}")
    if num_cams < 0:
        raise ConfigError(f"num_cams must be >= 0 (cameras of the training set), got {num_cams}")
    backbone = create_backbone(
        model_cfg.arch,
        pretrained=model_cfg.pretrained or None,
        image_size=tuple(image_size),
        stride=model_cfg.stride,
        sie_cameras=num_cams if model_cfg.sie else 0,
        sie_coef=model_cfg.sie_coef,
        activation=model_cfg.activation,
    )
    learner = create_prompt_learner(model_cfg.method, model_cfg, num_classes, backbone)
    return ReIDModel(
        backbone,
        learner,
        method=model_cfg.method.lower(),
        num_classes=num_classes,
        test_feature=model_cfg.test_feature,
        neck_feat=model_cfg.neck_feat,
    )
