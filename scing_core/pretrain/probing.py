"""Does SynthCLIP understand its captions? Zero-shot retrieval and attribute probing on held-out images.

Both work on L2-normalised features, so a similarity is a dot product.

- Retrieval: images against their *distinct* captions. Image -> caption: one right caption per image,
  chance R@1 = 1 / #captions. Caption -> image: a hit when a top-k image carries exactly that caption
  (several images, e.g. one person seen twice from behind, can share it); chance R@1 = the mean share
  of images carrying the query caption.
- Attribute probing: a short prompt ("a person wearing a red top") ranks every image by the
  probability CLIP's zero-shot classifier gives it among the prompts of the attribute's other values
  ("... a white top", "... a blue top", ...); precision@k is the share of the k best images that show
  the attribute (from the caption records' visible attributes), to compare with its base rate (the
  precision of a random ranking). AP over the whole ranking is reported too (a random ranking's AP
  is also the base rate).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from scing_core.errors import InputError

RECALL_KS = (1, 5, 10)


@dataclass(frozen=True)
class AttributeProbe:
    """A prompt for one value of a visible attribute (``key`` = ``value`` in a caption record), scored
    against its ``family``: the prompts of every value of that attribute."""

    name: str
    key: str
    value: str

    @property
    def prompt(self) -> str:
        return dict((v, p) for v, p in ATTRIBUTE_FAMILIES[self.key])[self.value]


COLOURS = ("black", "white", "grey", "navy", "blue", "red", "green", "yellow", "orange", "pink", "purple", "brown",
           "beige")
# attribute -> (value, prompt) for every value; None = the attribute is absent (no hat, no bag)
ATTRIBUTE_FAMILIES: dict[str, tuple[tuple[str | None, str], ...]] = {
    "top_colour": tuple((c, f"a person wearing a {c} top") for c in COLOURS),
    "top_pattern": (("stripes", "a person wearing a striped top"), ("checks", "a person wearing a checked top"),
                    ("logo", "a person wearing a top with a logo"), ("plain", "a person wearing a plain top")),
    "hat": (("cap", "a person wearing a cap"), ("beanie", "a person wearing a beanie"), (None, "a person")),
    "bag": (("backpack", "a person carrying a backpack"), ("handbag", "a person carrying a handbag"),
            ("shoulder bag", "a person carrying a shoulder bag"), (None, "a person")),
    "bottom_type": (("trousers", "a person wearing trousers"), ("shorts", "a person wearing shorts"),
                    ("skirt", "a person wearing a skirt")),
    "hair_length": (("short", "a person with short hair"), ("medium", "a person with medium hair"),
                    ("long", "a person with long hair")),
    "gender": (("man", "a man"), ("woman", "a woman")),
}
# Words SynthPed's captions use (e.g. "cap", never "hat"): a model trained on them knows only those.
ATTRIBUTE_PROBES: tuple[AttributeProbe, ...] = (
    AttributeProbe("red top", "top_colour", "red"),
    AttributeProbe("white top", "top_colour", "white"),
    AttributeProbe("black top", "top_colour", "black"),
    AttributeProbe("blue top", "top_colour", "blue"),
    AttributeProbe("yellow top", "top_colour", "yellow"),
    AttributeProbe("green top", "top_colour", "green"),
    AttributeProbe("striped top", "top_pattern", "stripes"),
    AttributeProbe("cap", "hat", "cap"),
    AttributeProbe("backpack", "bag", "backpack"),
    AttributeProbe("skirt", "bottom_type", "skirt"),
    AttributeProbe("shorts", "bottom_type", "shorts"),
    AttributeProbe("long hair", "hair_length", "long"),
    AttributeProbe("woman", "gender", "woman"),
)


def _check_features(image_features: torch.Tensor, text_features: torch.Tensor) -> None:
    if image_features.ndim != 2 or text_features.ndim != 2 or image_features.shape[1] != text_features.shape[1]:
        raise InputError(f"expected image features [N, E] and text features [M, E], got "
                         f"{tuple(image_features.shape)} and {tuple(text_features.shape)}")
    if len(image_features) == 0 or len(text_features) == 0:
        raise InputError("zero-shot retrieval needs at least one image and one caption")


def retrieval_metrics(image_features: torch.Tensor, caption_features: torch.Tensor,
                      caption_of_image: torch.Tensor, ks=RECALL_KS) -> dict:
    """Zero-shot R@k both ways. ``caption_features`` [M, E] are the distinct captions; ``caption_of_image``
    [N] gives each image's caption index. Returns ``{"i2t_r1", ..., "t2i_r1", ..., "i2t_chance_r1", ...,
    "t2i_chance_r1", ..., "images", "captions"}`` (fractions in 0..1; chance = a random ranking's R@k)."""
    _check_features(image_features, caption_features)
    caption_of_image = torch.as_tensor(caption_of_image, dtype=torch.long)
    num_images, num_captions = len(image_features), len(caption_features)
    in_range = int(caption_of_image.min()) >= 0 and int(caption_of_image.max()) < num_captions
    if caption_of_image.shape != (num_images,) or not in_range:
        raise InputError(f"caption_of_image must hold {num_images} indices into the {num_captions} captions")
    similarity = image_features.float() @ caption_features.float().T  # [N, M]
    positives = torch.zeros(num_images, num_captions, dtype=torch.bool)
    positives[torch.arange(num_images), caption_of_image] = True
    out: dict = {"images": num_images, "captions": num_captions}
    i2t_rank = similarity.argsort(dim=1, descending=True)  # [N, M]
    t2i_rank = similarity.T.argsort(dim=1, descending=True)  # [M, N]
    images_per_caption = positives.sum(dim=0)
    for k in ks:
        i2t_hits = positives.gather(1, i2t_rank[:, :k]).any(dim=1)
        t2i_hits = positives.T.gather(1, t2i_rank[:, :k]).any(dim=1)
        out[f"i2t_r{k}"] = float(i2t_hits.float().mean())
        out[f"t2i_r{k}"] = float(t2i_hits.float().mean())
    for k in ks:
        out[f"i2t_chance_r{k}"] = min(k, num_captions) / num_captions
        out[f"t2i_chance_r{k}"] = _chance_hit(images_per_caption, num_images, k)
    return out


def _chance_hit(positives: torch.Tensor, total: int, k: int) -> float:
    """Mean over queries of P(a random top-k of ``total`` items holds one of the query's ``positives``)."""
    k = min(k, total)
    misses = torch.ones(len(positives), dtype=torch.float64)
    for i in range(k):  # P(no positive among k draws without replacement)
        misses *= ((total - positives - i).clamp(min=0) / (total - i)).double()
    return float((1 - misses).mean())


def average_precision(scores: torch.Tensor, relevant: torch.Tensor) -> float:
    """AP of ranking by ``scores`` (descending) with boolean ``relevant`` labels; NaN without positives."""
    total = int(relevant.sum())
    if total == 0:
        return float("nan")
    ranked = relevant[scores.argsort(descending=True)].float()
    precision_at_hit = ranked.cumsum(0) / torch.arange(1, len(ranked) + 1)
    return float((precision_at_hit * ranked).sum() / total)


def probe_scores(image_features: torch.Tensor, family_features: torch.Tensor, logit_scale: float) -> torch.Tensor:
    """Zero-shot classification of every image among a family's prompts: softmax over the prompts of
    ``logit_scale`` x cosine, [N, P]. Ranking images by one column cancels what a short prompt shares with
    its siblings (e.g. "a person wearing a ... top" liking some images whatever the colour)."""
    return (float(logit_scale) * image_features.float() @ family_features.float().T).softmax(dim=-1)


def probe_attributes(image_features: torch.Tensor, encode_prompts: Callable[[list[str]], torch.Tensor],
                     image_attributes: list[dict], probes=ATTRIBUTE_PROBES, k: int = 10,
                     logit_scale: float = 100.0) -> dict:
    """Attribute probing: each probe ranks the images by :func:`probe_scores` of its prompt.

    ``encode_prompts(texts) -> [len(texts), E]`` L2-normalised text features. Per probe:
    ``{"prompt", "precision_at_k", "base_rate", "lift" (precision / base rate), "ap", "positives"}``
    (``lift`` and ``ap`` None when no image shows the attribute), plus ``"k"`` and the means over probes with at least one positive image
    (``mean_precision_at_k``, ``mean_base_rate``, ``mean_ap``, ``above_base_rate``: how many probes
    beat their base rate).
    """
    if image_features.ndim != 2 or len(image_features) == 0 or len(image_attributes) != len(image_features):
        raise InputError(f"need image features [N, E] with N >= 1 and one attribute dict per image, got "
                         f"{tuple(image_features.shape)} and {len(image_attributes)} dicts")
    if k < 1:
        raise InputError(f"k must be >= 1, got {k}")
    k = min(int(k), len(image_features))
    keys = sorted({p.key for p in probes})
    families = {key: ATTRIBUTE_FAMILIES[key] for key in keys}
    results: dict = {}
    for key, family in families.items():
        family_features = encode_prompts([prompt for _, prompt in family])
        _check_features(image_features, family_features)
        scores = probe_scores(image_features, family_features, logit_scale)
        column = {value: j for j, (value, _) in enumerate(family)}
        for probe in (p for p in probes if p.key == key):
            results[probe.name] = _probe_result(probe, scores[:, column[probe.value]], image_attributes, k)
    results = {p.name: results[p.name] for p in probes}  # the probes' own order
    scored = [r for r in results.values() if r["positives"] > 0]
    summary = {"k": k, "probes": len(scored),
               "mean_precision_at_k": _mean(r["precision_at_k"] for r in scored),
               "mean_base_rate": _mean(r["base_rate"] for r in scored),
               "mean_ap": _mean(r["ap"] for r in scored),
               "above_base_rate": sum(r["precision_at_k"] > r["base_rate"] for r in scored)}
    return {**summary, "per_probe": results}


def _probe_result(probe: AttributeProbe, scores: torch.Tensor, image_attributes: list[dict], k: int) -> dict:
    relevant = torch.tensor([attrs.get(probe.key) == probe.value for attrs in image_attributes])
    positives = int(relevant.sum())
    precision, base_rate = float(relevant[scores.topk(k).indices].float().mean()), float(relevant.float().mean())
    return {"prompt": probe.prompt, "precision_at_k": precision, "base_rate": base_rate,
            "lift": precision / base_rate if positives else None,
            "ap": average_precision(scores, relevant) if positives else None, "positives": positives}


def _mean(values) -> float:
    values = list(values)
    return float(sum(values) / len(values)) if values else float("nan")
