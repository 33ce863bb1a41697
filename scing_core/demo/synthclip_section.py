"""The report's SynthCLIP part, from the metrics JSON that ``train_synthclip`` writes next to the weights
(``{"held_out", "zero_shot", "attributes", "training"}``, see :mod:`scing_core.pretrain.synthclip`)."""

from __future__ import annotations

import math


def _pct(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{100 * float(value):.1f}"


def _zero_shot_table(zero: dict) -> list[str]:
    lines = ["| direction | R@1 | R@5 | R@10 | chance R@1 |", "|---|---|---|---|---|"]
    for key, name in (("t2i", "caption -> image"), ("i2t", "image -> caption")):
        cells = [_pct(zero.get(f"{key}_r{k}")) for k in (1, 5, 10)]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {_pct(zero.get(f'{key}_chance_r1'))} |")
    return lines


def _probe_table(attributes: dict) -> list[str]:
    k = attributes.get("k", "k")
    lines = [f"| probe prompt | precision@{k} | base rate | lift |", "|---|---|---|---|"]
    for probe in attributes.get("per_probe", {}).values():
        if probe.get("positives", 0) > 0:
            base = probe.get("base_rate") or 0.0
            lift_text = f"{probe['precision_at_k'] / base:.1f}x" if base > 0 else "n/a"
            lines.append(f"| \"{probe['prompt']}\" | {_pct(probe['precision_at_k'])} | {_pct(probe['base_rate'])} "
                         f"| {lift_text} |")
    return lines


def synthclip_section(metrics: dict | None) -> str:
    """Markdown for SynthCLIP's zero-shot retrieval and attribute probing, against chance."""
    head = "## SynthCLIP\n\n"
    if not metrics:
        return head + "*SynthCLIP metrics missing: the pre-training has not run (see the list at the end).*"
    held = metrics.get("held_out", {})
    training = metrics.get("training", {})
    attributes = metrics.get("attributes", {})
    lines = [
        "The runs start from SynthCLIP-S (`synthclip/synthclip-s.pt`), pre-trained contrastively (open_clip's "
        f"CLIP loss) on {training.get('images', '?')} SynthPed images of {training.get('ids', '?')} people "
        f"disjoint from the ReID splits ({training.get('epochs', '?')} epochs, "
        f"{training.get('train_seconds', '?')} s of training). Checked on {held.get('images', '?')} held-out "
        f"images of {held.get('ids', '?')} other people and their {held.get('captions', '?')} distinct captions:",
        "", "**Zero-shot retrieval** (%):", "", *_zero_shot_table(metrics.get("zero_shot", {})), "",
        f"**Attribute probing**: each prompt ranks the held-out images; precision of the top {attributes.get('k', '?')} "
        "against the share of images that have the attribute. "
        f"{attributes.get('above_base_rate', '?')} of {attributes.get('probes', '?')} probes beat their base rate "
        f"(mean precision {_pct(attributes.get('mean_precision_at_k'))} % vs {_pct(attributes.get('mean_base_rate'))} %).",
        "", *_probe_table(attributes),
    ]
    return head + "\n".join(lines)
