"""SynthCLIP's training loop: open_clip's contrastive loss, AdamW, cosine schedule with warm-up.

The recipe follows open_clip's own training script (``open_clip_train.main``): no weight decay on
gains, biases and the logit scale, ``ClipLoss`` over the batch, ``cosine_lr`` with linear warm-up,
the logit scale clamped to ln(100) after each step. Batches are cut from rounds that hold each
identity once, so two pictures of the same person are (almost) never each other's negatives.
Augmentation is light and keeps every caption true: horizontal flip (captions never say left or
right), a small random shift (zero padding) and, for some captions, a partial caption
(:class:`scing_core.pretrain.captions.CaptionSampler`).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Callable

import open_clip
import torch
import torch.nn.functional as F
from open_clip_train.scheduler import cosine_lr

from scing_core.errors import ScingError
from scing_core.models.text_encoder import TextEncoder
from scing_core.pretrain.captions import CaptionRecord, CaptionSampler
from scing_core.pretrain.model import encode_images, encode_texts

log = logging.getLogger(__name__)

MAX_LOGIT_SCALE = math.log(100)
StepCallback = Callable[[int, int, str], None]  # (steps done, steps in all, detail)


@dataclass(frozen=True)
class TrainingRecipe:
    """What one pre-training run does with its images (see :mod:`scing_core.pretrain.synthclip`)."""

    epochs: int
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 0.1
    warmup_fraction: float = 0.1     # share of the steps with a linear learning-rate warm-up
    flip_p: float = 0.5
    max_shift: int = 4               # random translation, pixels each way
    grad_clip: float = 1.0           # max gradient norm (0 = off)
    partial_caption_p: float = 0.15  # share of captions replaced by a partial one (text augmentation)
    partial_caption_keep: float = 0.7  # in a partial caption, chance that each attribute group stays


def parameter_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    """open_clip's split: gains, biases and the logit scale without weight decay, matrices with it."""
    def no_decay(name: str, p: torch.nn.Parameter) -> bool:
        return p.ndim < 2 or "bn" in name or "ln" in name or "bias" in name or "logit_scale" in name

    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    return [{"params": [p for n, p in named if no_decay(n, p)], "weight_decay": 0.0},
            {"params": [p for n, p in named if not no_decay(n, p)], "weight_decay": weight_decay}]


def epoch_order(pids: list[int], generator: torch.Generator) -> list[int]:
    """A shuffled order of the images in which each identity appears once per round: round r holds
    every identity's r-th image (identities and their images in random order)."""
    groups: dict[int, list[int]] = {}
    for index, pid in enumerate(pids):
        groups.setdefault(pid, []).append(index)
    shuffled = [[members[i] for i in torch.randperm(len(members), generator=generator).tolist()]
                for members in groups.values()]
    order = []
    for r in range(max(len(g) for g in shuffled)):
        ids = [g for g in shuffled if r < len(g)]
        order += [ids[i][r] for i in torch.randperm(len(ids), generator=generator).tolist()]
    return order


def augment(images: torch.Tensor, recipe: TrainingRecipe, generator: torch.Generator) -> torch.Tensor:
    """uint8 [B, 3, H, W] -> the same, each flipped with ``flip_p`` and shifted by up to ``max_shift`` px."""
    flip = torch.rand(len(images), generator=generator) < recipe.flip_p
    images = torch.where(flip.view(-1, 1, 1, 1), images.flip(-1), images)
    shift = recipe.max_shift
    if shift <= 0:
        return images
    height, width = images.shape[-2:]
    padded = F.pad(images, (shift, shift, shift, shift))
    offsets = torch.randint(0, 2 * shift + 1, (len(images), 2), generator=generator).tolist()
    return torch.stack([p[:, dy:dy + height, dx:dx + width] for p, (dy, dx) in zip(padded, offsets)])


def train_contrastive(model: open_clip.CLIP, images: torch.Tensor, records: list[CaptionRecord],
                      recipe: TrainingRecipe, seed: int = 0, on_step: StepCallback | None = None) -> dict:
    """Train ``model`` in place on uint8 ``images`` [N, 3, H, W] and their caption ``records``.

    Returns the history: ``{"steps", "epochs", "seconds", "epoch_loss": [...], "final_loss",
    "logit_scale"}``. ``on_step(done, total, detail)`` is called after every step.
    """
    generator = torch.Generator().manual_seed(int(seed))
    captions = CaptionSampler(records, recipe.partial_caption_p, recipe.partial_caption_keep)
    pids = [r.pid for r in records]
    batch = min(recipe.batch_size, len(images))
    steps_per_epoch = max(1, len(images) // batch)
    total = steps_per_epoch * recipe.epochs
    optimizer = torch.optim.AdamW(parameter_groups(model, recipe.weight_decay), lr=recipe.lr, betas=(0.9, 0.98),
                                  eps=1e-6)
    schedule = cosine_lr(optimizer, recipe.lr, max(1, round(recipe.warmup_fraction * total)), total)
    loss_fn = open_clip.loss.ClipLoss()
    text_encoder = TextEncoder(model)
    model.train()
    start, done, epoch_loss = time.perf_counter(), 0, []
    for epoch in range(recipe.epochs):
        order = torch.tensor(epoch_order(pids, generator))
        running = 0.0
        for step in range(steps_per_epoch):
            index = order[step * batch:(step + 1) * batch]
            schedule(done)
            image_features = encode_images(model, augment(images[index], recipe, generator))
            text_features = encode_texts(model, captions.tokens(index, generator), text_encoder)
            loss = loss_fn(image_features, text_features, model.logit_scale.exp())
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if recipe.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), recipe.grad_clip)
            optimizer.step()
            with torch.no_grad():
                model.logit_scale.clamp_(0, MAX_LOGIT_SCALE)
            value = float(loss.detach())
            if not math.isfinite(value):
                raise ScingError(f"SynthCLIP training diverged at epoch {epoch + 1}, step {step + 1} (loss {value}); "
                                 f"lower the learning rate (now {recipe.lr:g})")
            running += value
            done += 1
            if on_step is not None:
                on_step(done, total, f"epoch {epoch + 1}/{recipe.epochs} loss {value:.3f}")
        epoch_loss.append(running / steps_per_epoch)
        log.info("SynthCLIP epoch %d/%d: loss %.3f, %.0f s", epoch + 1, recipe.epochs, epoch_loss[-1],
                 time.perf_counter() - start)
    model.eval()
    return {"steps": total, "epochs": recipe.epochs, "batch_size": batch, "seconds": time.perf_counter() - start,
            "epoch_loss": epoch_loss, "final_loss": epoch_loss[-1] if epoch_loss else float("nan"),
            "logit_scale": float(model.logit_scale.detach().exp())}
