"""Parameters, FLOPs and latency per method (the paper's Table 4), measured on randomly built models.

- Parameters at training time: everything the two stages use — image encoder (+ SIE), text encoder
  (transformer, positional embedding, final LayerNorm, projection), prompt learner (identity tokens
  + meta-net / SVIP) and the heads (BNNecks, classifiers). CLIP's token-embedding table is not
  counted: it is read once to embed the fixed prompt words (kept as buffers, as CLIP-ReID does) and
  never runs in training. Parameters at inference: the image encoder (+ SIE) only.
- FLOPs of the inference path (one image through the image encoder), reported as multiply-adds,
  1 MAC = 1 FLOP (the convention of the paper's table and of most ReID papers). "complete" counts
  every matrix product — linear and convolution layers and the attention products QK^T and AV —
  through ``torch.utils.flop_counter.FlopCounterMode``; "linear/conv" counts those layers only.
- "Paper-style" GFLOPs: what a module-hook counter (thop-style) reports — 2 FLOPs per MAC of the
  ``nn.Linear`` / ``nn.Conv2d`` modules whose forward runs. Inside ``nn.MultiheadAttention`` no such
  module runs (the in/out projections use its weight tensors directly), so the whole attention
  block is invisible to it. For ViT-B-16 at 256x128, stride 12, this gives exactly the paper's
  24.14 G (see docs/efficiency.md).
- Latency: median wall time per image of the inference path on the chosen device.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
import time
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode, sdpa_flop_count

from scing_core.config.schema import DataConfig, ModelConfig, TrainConfig
from scing_core.models import ReIDModel, build_model, list_methods

MAC = 2  # FlopCounterMode counts 2 FLOPs per multiply-add
LINEAR_OPS = ("aten.mm", "aten.addmm", "aten.convolution", "aten._convolution", "aten.cudnn_convolution",
              "aten._slow_conv2d_forward", "aten.convolution_overrideable")


def _cpu_flash_attention_flops(query_shape, key_shape, value_shape, *args, out_shape=None, **kwargs) -> int:
    return sdpa_flop_count(query_shape, key_shape, value_shape)


def _extra_formulas() -> dict:
    """Formulas FlopCounterMode lacks: the CPU flash-attention kernel that SDPA uses on CPU."""
    op = getattr(torch.ops.aten, "_scaled_dot_product_flash_attention_for_cpu", None)
    return {op: _cpu_flash_attention_flops} if op is not None else {}


@dataclass(frozen=True)
class MethodCost:
    """One row of the efficiency table."""

    method: str
    train_params: int
    inference_params: int
    param_groups: dict  # name -> parameter count (image_encoder, text_encoder, prompt_learner, heads)
    macs_complete: int  # inference MACs, attention products included
    macs_linear: int  # inference MACs of linear + convolution layers only
    flops_layer_hooks: int  # 2 x MACs of the nn.Linear / nn.Conv2d modules that run (thop-style, the paper's)
    latency_ms: float  # median per image on `device` (NaN: not measured)
    device: str
    fusion_parts: dict = dataclasses.field(default_factory=dict)  # prompt-learner module -> (shape text, params)


def parameter_groups(model: ReIDModel) -> dict[str, int]:
    """Parameter counts of the parts a ReIDModel trains (token-embedding table and logit scale excluded)."""

    def count(params) -> int:
        return sum(p.numel() for p in params)

    sie = [model.backbone.sie_embed] if model.backbone.sie_embed is not None else []
    heads = (model.bottleneck, model.bottleneck_proj, model.classifier, model.classifier_proj)
    return {
        "image_encoder": count(model.backbone.visual.parameters()) + count(sie),
        "text_encoder": count(model.text_encoder.parameters()),
        "prompt_learner": count(model.prompt_learner.parameters()),
        "heads": sum(count(h.parameters()) for h in heads),
    }


def fusion_parts(model: ReIDModel) -> dict[str, tuple[str, int]]:
    """The prompt learner's modules beyond the identity tokens (SVIP's MLP and gate, CoCoOp's meta-net):
    name -> (their linear layers' widths, e.g. "768->48->512", and parameter count)."""
    parts = {}
    for name, module in model.prompt_learner.named_children():
        linears = [m for m in module.modules() if isinstance(m, nn.Linear)]
        if linears:
            widths = "->".join(str(w) for w in [linears[0].in_features, *(m.out_features for m in linears)])
            parts[name] = (widths, sum(p.numel() for p in module.parameters()))
    return parts


def _example_inputs(model: ReIDModel, batch: int, device: torch.device):
    height, width = model.backbone.image_size
    images = torch.randn(batch, 3, height, width, device=device)
    cams = torch.zeros(batch, dtype=torch.long, device=device) if model.backbone.sie_embed is not None else None
    return images, cams


def count_inference_macs(model: ReIDModel) -> tuple[int, int, dict[str, int]]:
    """(complete, linear/conv-only, per-op) MACs of one image through ``model.forward`` (on CPU)."""
    model = model.eval()
    images, cams = _example_inputs(model, 1, torch.device("cpu"))
    counter = FlopCounterMode(display=False, custom_mapping=_extra_formulas())
    fastpath = torch.backends.mha.get_fastpath_enabled()
    # nn.MultiheadAttention's fused inference kernel is invisible to the counter: count the plain path
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with torch.no_grad(), counter:
            model(images, cams)
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)
    per_op = {str(op): int(flops) // MAC for op, flops in counter.get_flop_counts()["Global"].items()}
    linear = sum(v for op, v in per_op.items() if op.split(".default")[0] in LINEAR_OPS)
    return sum(per_op.values()), linear, per_op


def count_layer_hook_flops(model: ReIDModel) -> int:
    """FLOPs (2 per MAC) a module-hook counter sees for one image: ``nn.Linear`` and ``nn.Conv2d``
    modules whose forward runs; products computed elsewhere (attention blocks, CLIP's final
    projection matrix) are not seen."""
    total = [0]

    def on_linear(module: nn.Linear, inputs, output) -> None:
        total[0] += output.numel() * module.in_features

    def on_conv(module: nn.Conv2d, inputs, output) -> None:
        kernel_h, kernel_w = module.kernel_size
        total[0] += output.numel() * (module.in_channels // module.groups) * kernel_h * kernel_w

    hooks = [
        module.register_forward_hook(on_linear if isinstance(module, nn.Linear) else on_conv)
        for module in model.modules()
        if isinstance(module, (nn.Linear, nn.Conv2d))
    ]
    model = model.eval()
    images, cams = _example_inputs(model, 1, torch.device("cpu"))
    try:
        with torch.no_grad():
            model(images, cams)
    finally:
        for hook in hooks:
            hook.remove()
    return MAC * total[0]


def measure_latency_ms(model: ReIDModel, device: torch.device, batch: int = 1, repeats: int = 10, warmup: int = 2) -> float:
    """Median milliseconds per image of the inference path on ``device`` (fp32)."""
    model = model.eval().to(device)
    images, cams = _example_inputs(model, batch, device)
    times = []
    with torch.no_grad():
        for step in range(warmup + repeats):
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            start = time.perf_counter()
            model(images, cams)
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            if step >= warmup:
                times.append((time.perf_counter() - start) * 1000.0 / batch)
    return statistics.median(times)


def efficiency_config(method: str, arch: str, stride: int, image_size: tuple[int, int], sie: bool) -> TrainConfig:
    """The TrainConfig whose model the table measures (random init, no weights)."""
    model = dataclasses.replace(ModelConfig(), method=method, arch=arch, stride=stride, sie=sie, pretrained="")
    return TrainConfig(model=model, data=dataclasses.replace(DataConfig(), image_size=tuple(image_size)))


def measure_method(
    method: str,
    arch: str = "ViT-B-16",
    num_classes: int = 702,
    stride: int = 12,
    image_size: tuple[int, int] = (256, 128),
    num_cams: int = 0,
    device: str | torch.device = "cpu",
    latency_repeats: int = 10,
    batch_size: int = 1,
) -> MethodCost:
    """Build ``method`` and measure its parameters, inference MACs and latency."""
    cfg = efficiency_config(method, arch, stride, image_size, sie=num_cams > 0)
    model = build_model(cfg, num_classes=num_classes, num_cams=num_cams)
    groups = parameter_groups(model)
    complete, linear, _ = count_inference_macs(model)
    device = torch.device(device)
    latency = measure_latency_ms(model, device, batch_size, latency_repeats) if latency_repeats > 0 else float("nan")
    return MethodCost(
        method=method,
        train_params=sum(groups.values()),
        inference_params=groups["image_encoder"],
        param_groups=groups,
        macs_complete=complete,
        macs_linear=linear,
        flops_layer_hooks=count_layer_hook_flops(model),
        latency_ms=latency,
        device=str(device),
        fusion_parts=fusion_parts(model),
    )


def efficiency_table(methods: list[str] | None = None, **settings) -> list[MethodCost]:
    """One :class:`MethodCost` per method (all of ``list_methods()`` by default); see ``measure_method``."""
    return [measure_method(method, **settings) for method in (methods or list_methods())]


def _latency_text(latency_ms: float) -> str:
    return "n/a" if math.isnan(latency_ms) else f"{latency_ms:.1f}"


def format_table(rows: list[MethodCost]) -> str:
    """A plain-text table; deltas are against the first row (CLIP-ReID by default).

    Parameters in millions, FLOPs in G (M for models under 0.1 GMACs, such as scing-tiny).
    """
    base = rows[0]
    big = base.macs_complete >= 1e8
    scale, unit = (1e9, "G") if big else (1e6, "M")
    digits = 2 if base.train_params >= 1e7 else 4
    header = (
        f"{'method':<10} {'train params (M)':>16} {'delta (M)':>10} {'infer params (M)':>16} "
        f"{unit + 'MACs all':>10} {unit + 'MACs lin/conv':>15} {unit + 'FLOPs paper-style':>19} {'ms/image':>9}"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        delta = (row.train_params - base.train_params) / 1e6
        lines.append(
            f"{row.method:<10} {row.train_params / 1e6:>16.{digits}f} {delta:>+10.{digits + 1}f} "
            f"{row.inference_params / 1e6:>16.{digits}f} {row.macs_complete / scale:>10.2f} "
            f"{row.macs_linear / scale:>15.2f} {row.flops_layer_hooks / scale:>19.2f} {_latency_text(row.latency_ms):>9}"
        )
    return "\n".join(lines)
