"""Models: the open_clip backbone adapter, the text encoder, prompt learners and the ReID model.

``build_model(cfg, num_classes, num_cams)`` is the entry point (``create_reid_model`` its explicit
form); methods ``clipreid``, ``cocoop`` and ``scing`` (``list_methods()``); architectures are open_clip names plus the project's
``scing-tiny`` and ``synthclip-s`` (``list_archs()``).
"""

from scing_core.models.archs import PROJECT_ARCHS, list_archs
from scing_core.models.build import build_model, create_reid_model
from scing_core.models.clip_backbone import ClipBackbone, ImageFeatures, create_backbone
from scing_core.models.prompts import list_methods
from scing_core.models.reid_model import ReIDModel, TrainOutput
from scing_core.models.text_encoder import TextEncoder
from scing_core.models.weights import load_pretrained

__all__ = [
    "PROJECT_ARCHS",
    "ClipBackbone",
    "ImageFeatures",
    "ReIDModel",
    "TextEncoder",
    "TrainOutput",
    "create_reid_model",
    "create_backbone",
    "list_archs",
    "list_methods",
    "load_pretrained",
    "build_model",
]
