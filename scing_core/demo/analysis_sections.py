"""The report's analysis part: each figure with its numbers, read from ``WS/figures/*.json``."""

from __future__ import annotations

import math
from pathlib import Path

from scing_core.models.prompts import method_title
from scing_core.demo.figures import figure_numbers
from scing_core.demo.workspace import METHODS, DemoWorkspace
from scing_core.pipeline.synthetic import SPLITS

TITLES = {method: method_title(method) for method in METHODS}


def _pct(value, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{100 * float(value):.{digits}f}"


def _missing(what: str) -> str:
    return f"*{what}: not built yet (see the list at the end of this report).*"


def efficiency_section(ws: DemoWorkspace) -> str:
    numbers = figure_numbers(ws, "efficiency")
    table = ws.figures / "efficiency.txt"
    if not numbers or not table.is_file():
        return "### Efficiency\n\n" + _missing("efficiency table")
    return ("### Efficiency\n\n"
            f"The three methods on the demo's architecture ({numbers['arch']}, {numbers['image_size'][0]}x"
            f"{numbers['image_size'][1]}, {numbers['num_classes']} training identities), measured on this machine "
            "([efficiency.txt](figures/efficiency.txt)); inference uses the image encoder only, so all three cost the "
            "same at test time.\n\n```\n" + table.read_text(encoding="utf-8").rstrip() + "\n```")


def saliency_section(ws: DemoWorkspace) -> str:
    numbers = figure_numbers(ws, "saliency")
    if not numbers:
        return "### Saliency (Grad-CAM)\n\n" + _missing("saliency grid")
    lines = ["### Saliency (Grad-CAM)", "",
             "![saliency grid](figures/saliency.png)", "",
             f"{numbers['method']} towards each image's identity prototype, on occluded query images "
             "([PDF](figures/saliency.pdf)). Person share = share of the CAM energy on the person mask; a uniform "
             "map gets the mask area.", "",
             "| method | " + " | ".join(f"{s} person share" for s in SPLITS) + " | " +
             " | ".join(f"{s} mask area" for s in SPLITS) + " |",
             "|---|" + "---|" * (2 * len(SPLITS))]
    for method in METHODS:
        shares = numbers["person_share"].get(method, {})
        cells = [f"{_pct(shares.get(s, {}).get('mean'))} % (n={shares.get(s, {}).get('n_images', 0)})" for s in SPLITS]
        cells += [f"{_pct(shares.get(s, {}).get('mask_area'))} %" for s in SPLITS]
        lines.append(f"| {TITLES[method]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def gap_section(ws: DemoWorkspace) -> str:
    numbers = figure_numbers(ws, "gap")
    if not numbers:
        return "### Modality gap\n\n" + _missing("modality-gap figure")
    lines = ["### Modality gap", "", "![modality gap](figures/modality_gap.png)", "",
             f"{numbers['ids']} training identities, {numbers['projection'].upper()} projection of image (red) and "
             "text (blue) embeddings ([PDF](figures/modality_gap.pdf)). Numbers on L2-normalised embeddings: mean "
             "paired cosine distance, centroid gap ||mean(img) - mean(txt)||, image-to-text identity R@1.", "",
             "| method | text | paired cos. distance | centroid gap | i2t R@1 |", "|---|---|---|---|---|"]
    for method in METHODS:
        for kind, m in numbers["metrics"].get(method, {}).items():
            lines.append(f"| {TITLES[method]} | {kind} | {m['mean_paired_cosine_distance']:.3f} | "
                         f"{m['centroid_gap']:.3f} | {_pct(m['i2t_r1'])} % |")
    return "\n".join(lines)


def robustness_section(ws: DemoWorkspace) -> str:
    numbers = figure_numbers(ws, "robustness")
    if not numbers:
        return "### Occlusion robustness\n\n" + _missing("robustness curves")
    fractions = numbers["fractions"]
    lines = ["### Occlusion robustness", "", "![robustness](figures/robustness.png)", "",
             "mAP (%) with a synthetic occluder (`occlude`) or a random erased rectangle (`erase`) covering the "
             "given share of every holistic query ([PDF](figures/robustness.pdf)).", "",
             "| method | mode | " + " | ".join(f"{100 * f:.0f} %" for f in fractions) + " |",
             "|---|---|" + "---|" * len(fractions)]
    for label, run in numbers["runs"].items():
        for mode, curve in run["curves"].items():
            lines.append(f"| {TITLES.get(run.get('method', label), label)} | {mode} | " +
                         " | ".join(_pct(v) for v in curve["mAP"]) + " |")
    return "\n".join(lines)


def distances_section(ws: DemoWorkspace) -> str:
    numbers = figure_numbers(ws, "distances")
    if not numbers:
        return "### Distance distributions\n\n" + _missing("distance histograms / ROC")
    lines = ["### Distance distributions", "",
             "Cosine distances of positive pairs (same identity, other camera) and negative pairs, and the ROC "
             "over distance thresholds, from each run's eval artefacts.", "",
             "| method | split | mean positive | mean negative | ROC AUC | TAR @ FAR 1 % | figure |",
             "|---|---|---|---|---|---|---|"]
    for method in METHODS:
        for split, m in numbers["runs"].get(method, {}).items():
            name = f"distances_{method}_{split}"
            lines.append(f"| {TITLES[method]} | {split} | {m['positive_mean']:.3f} | {m['negative_mean']:.3f} | "
                         f"{m['auc']:.3f} | {_pct(m['tar_at_far_1pct'])} % | [PNG](figures/{name}.png) |")
    lines += ["", "![SCING distances, occluded split](figures/distances_scing_occluded.png)"]
    return "\n".join(lines)


def ranking_section(ws: DemoWorkspace) -> str:
    numbers = figure_numbers(ws, "ranking")
    if not numbers:
        return "### Hardest queries\n\n" + _missing("ranking figure")
    lines = ["### Hardest queries", "", "![hardest queries](figures/ranking.png)", "",
             f"The {len(numbers['queries'])} {numbers['split']} queries with the lowest AP for "
             f"{TITLES[numbers['run']]}, each with its top-{numbers['k']} gallery images (green frame: same "
             "identity, red: another identity, grey dashed: junk) ([PDF](figures/ranking.pdf); any query: "
             "`scing ranking`, or the studio's Retrieval tab).", "",
             "| query | identity | AP | first true match |", "|---|---|---|---|"]
    for q in numbers["queries"]:
        lines.append(f"| {q['index']} (`{Path(q['path']).name}`) | {q['pid']} | {_pct(q['ap'])} % | "
                     f"rank {q['first_hit_rank']} |")
    return "\n".join(lines)


def analysis_sections(ws: DemoWorkspace) -> str:
    """All analysis subsections, in the order the demo builds them."""
    parts = (efficiency_section, saliency_section, gap_section, robustness_section, distances_section,
             ranking_section)
    return "\n\n".join(part(ws) for part in parts)
