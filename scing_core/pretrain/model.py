"""The SynthCLIP model: build, tokenise, encode, save and load (an open_clip ``CLIP``).

Text is encoded through :class:`scing_core.models.text_encoder.TextEncoder`, which runs the causal
text transformer only up to the longest caption's EOT token: the same features as
``CLIP.encode_text`` (pinned by a test), a few times cheaper for 30-token captions in a 77 context.
Images are uint8 [N, 3, H, W] tensors normalised as the ReID pipeline does (``data.mean`` /
``data.std`` = 0.5), so the fine-tuned ReID models see the inputs SynthCLIP was trained on.
"""

from __future__ import annotations

from pathlib import Path

import open_clip
import torch
import torch.nn.functional as F

from scing_core.atomic import atomic_open
from scing_core.errors import CheckpointError, InputError
from scing_core.models.archs import arch_config
from scing_core.models.clip_backbone import built_activation, create_backbone
from scing_core.models.text_encoder import TextEncoder
from scing_core.models.weights import normalise_keys, read_state_dict
from scing_core.pretrain.captions import IMAGE_SIZE

ARCH = "synthclip-s"
MEAN = (0.5, 0.5, 0.5)   # the project's DataConfig default (CLIP-ReID's)
STD = (0.5, 0.5, 0.5)


def create_synthclip_model(arch: str = ARCH, image_size: tuple[int, int] = IMAGE_SIZE) -> open_clip.CLIP:
    """A randomly initialised open_clip CLIP of ``arch`` whose image tower takes ``image_size`` inputs
    (built by :func:`scing_core.models.create_backbone`, so exactly what ReID training later loads)."""
    return create_backbone(arch, image_size=tuple(image_size), stride=16).clip


def tokenize(texts: list[str], context_length: int | None = None) -> torch.Tensor:
    """Token ids [N, context_length] (default: ``synthclip-s``'s, 77) from open_clip's CLIP tokenizer
    (its BPE vocabulary ships with the package: no download); longer texts are cut, EOT kept."""
    if context_length is None:
        context_length = int(arch_config(ARCH)["text_cfg"].get("context_length", 77))
    return open_clip.tokenize(list(texts), context_length=int(context_length))


def encode_texts(model: open_clip.CLIP, tokens: torch.Tensor, text_encoder: TextEncoder | None = None) -> torch.Tensor:
    """L2-normalised text features [N, E] of token ids [N, T] (EOT = the highest id, as in CLIP)."""
    encoder = text_encoder or TextEncoder(model)
    tokens = tokens.to(model.token_embedding.weight.device)
    features = encoder(model.token_embedding(tokens), tokens.argmax(dim=-1))
    return F.normalize(features, dim=-1)


def normalise_images(images: torch.Tensor) -> torch.Tensor:
    """uint8 [N, 3, H, W] -> float, scaled to [0, 1] then normalised with ``MEAN`` / ``STD``."""
    if images.dtype != torch.uint8 or images.ndim != 4 or images.shape[1] != 3:
        raise InputError(f"expected uint8 images [N, 3, H, W], got {images.dtype} {tuple(images.shape)}")
    mean = torch.tensor(MEAN, device=images.device).view(1, 3, 1, 1)
    std = torch.tensor(STD, device=images.device).view(1, 3, 1, 1)
    return (images.float() / 255.0 - mean) / std


def encode_images(model: open_clip.CLIP, images: torch.Tensor) -> torch.Tensor:
    """L2-normalised image features [N, E] of uint8 images [N, 3, H, W]."""
    device = model.logit_scale.device
    return F.normalize(model.encode_image(normalise_images(images.to(device))), dim=-1)


@torch.no_grad()
def embed_images(model: open_clip.CLIP, images: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """``encode_images`` in evaluation mode, in batches, on the CPU afterwards."""
    model.eval()
    return torch.cat([encode_images(model, images[i:i + batch_size]).cpu() for i in range(0, len(images), batch_size)])


@torch.no_grad()
def embed_texts(model: open_clip.CLIP, texts: list[str], batch_size: int = 512) -> torch.Tensor:
    """``encode_texts`` of raw strings in evaluation mode, in batches, on the CPU afterwards."""
    model.eval()
    encoder = TextEncoder(model)
    tokens = tokenize(texts, encoder.context_length)
    return torch.cat([encode_texts(model, tokens[i:i + batch_size], encoder).cpu()
                      for i in range(0, len(tokens), batch_size)])


def save_checkpoint(path, model: open_clip.CLIP, *, arch: str, image_size, metrics: dict, config: dict) -> Path:
    """Write ``{"state_dict", "arch", "image_size", "activation", "metrics", "config"}`` atomically
    (temp + os.replace); ``activation`` tells a ReID model built from the file which one to use."""
    path = Path(path)
    payload = {"state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()}, "arch": arch,
               "image_size": [int(s) for s in image_size], "activation": built_activation(model),
               "metrics": metrics, "config": config}
    with atomic_open(path, "wb") as fh:
        torch.save(payload, fh)
    return path


def load_checkpoint(path) -> tuple[open_clip.CLIP, dict]:
    """A SynthCLIP model from a checkpoint file, and the checkpoint's other entries (arch, config...)."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise CheckpointError(f"SynthCLIP checkpoint '{path}' does not exist; train one with `scing synthclip --out PATH`")
    state = normalise_keys(read_state_dict(path))  # CheckpointError when it is not a weights file
    payload = torch.load(path, map_location="cpu", weights_only=True)
    extras = {k: v for k, v in payload.items() if k != "state_dict"} if isinstance(payload, dict) else {}
    arch = str(extras.get("arch", ARCH))
    size = tuple(extras.get("image_size", IMAGE_SIZE))
    model = create_synthclip_model(arch, size)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise CheckpointError(f"'{path}' does not hold {arch} weights at {size[0]}x{size[1]} "
                              f"({str(exc).splitlines()[0]}); pass a file written by `scing synthclip`") from exc
    return model.eval(), extras
