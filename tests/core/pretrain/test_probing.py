"""Zero-shot retrieval and attribute probing metrics on hand-made features."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from scing_core.errors import InputError
from scing_core.pretrain.probing import (AttributeProbe, average_precision, probe_attributes, probe_scores,
                                        retrieval_metrics)


def test_matching_features_retrieve_every_pair_at_rank_one():
    captions = F.normalize(torch.randn(6, 8, generator=torch.Generator().manual_seed(0)), dim=-1)
    caption_of_image = torch.tensor([0, 1, 2, 3, 4, 5, 0, 2])
    result = retrieval_metrics(captions[caption_of_image], captions, caption_of_image)
    assert result["i2t_r1"] == 1.0 and result["t2i_r1"] == 1.0
    assert result["images"] == 8 and result["captions"] == 6


def test_chance_levels_count_distinct_captions_and_shared_ones():
    captions = F.normalize(torch.randn(4, 8, generator=torch.Generator().manual_seed(1)), dim=-1)
    caption_of_image = torch.tensor([0, 0, 1, 2, 3, 3, 3, 3])  # caption 3 on half the images
    result = retrieval_metrics(captions[caption_of_image], captions, caption_of_image)
    assert result["i2t_chance_r1"] == pytest.approx(1 / 4)
    assert result["t2i_chance_r1"] == pytest.approx((2 + 1 + 1 + 4) / 8 / 4)
    assert result["i2t_chance_r5"] == 1.0 and result["i2t_chance_r10"] == 1.0
    # a random top-5 of the 8 images misses caption 0 (2 images) with probability C(6,5)/C(8,5) = 6/56,
    # holds caption 1 or 2 (1 image each) with probability 5/8, and always holds caption 3 (4 images)
    assert result["t2i_chance_r5"] == pytest.approx((50 / 56 + 5 / 8 + 5 / 8 + 1.0) / 4)


def test_unrelated_features_score_near_chance():
    generator = torch.Generator().manual_seed(2)
    images = F.normalize(torch.randn(400, 16, generator=generator), dim=-1)
    captions = F.normalize(torch.randn(400, 16, generator=generator), dim=-1)
    result = retrieval_metrics(images, captions, torch.arange(400))
    assert result["i2t_r1"] < 0.02 and result["t2i_r1"] < 0.02
    assert result["i2t_r10"] < 0.08


def test_swapped_captions_are_misses():
    captions = torch.eye(3)
    result = retrieval_metrics(captions[[1, 2, 0]], captions, torch.tensor([0, 1, 2]), ks=(1,))
    assert result["i2t_r1"] == 0.0 and result["t2i_r1"] == 0.0


def test_caption_indices_out_of_range_are_refused():
    with pytest.raises(InputError, match="indices"):
        retrieval_metrics(torch.eye(3), torch.eye(3), torch.tensor([0, 1, 3]))


def test_average_precision_of_known_rankings():
    scores = torch.tensor([0.9, 0.8, 0.7, 0.6])
    assert average_precision(scores, torch.tensor([True, False, True, False])) == pytest.approx((1 + 2 / 3) / 2)
    assert average_precision(scores, torch.tensor([False, False, False, True])) == pytest.approx(0.25)
    assert math.isnan(average_precision(scores, torch.zeros(4, dtype=torch.bool)))


def _axis_encoder(axes: dict[str, torch.Tensor]):
    """Text features that put each known prompt on its own axis (unknown prompts on a neutral one)."""
    neutral = F.normalize(torch.ones(3), dim=0)
    return lambda texts: torch.stack([axes.get(t, neutral) for t in texts])


def test_probe_ranks_images_by_their_attribute_among_the_family_prompts():
    attrs = [{"top_colour": "red"} if i % 4 == 0 else {"top_colour": "blue", "hat": "cap"} for i in range(40)]
    red, blue = torch.eye(3)[0], torch.eye(3)[1]
    images = torch.stack([red if a["top_colour"] == "red" else blue for a in attrs])
    encode = _axis_encoder({"a person wearing a red top": red, "a person wearing a blue top": blue,
                            "a person wearing a cap": blue})
    probes = (AttributeProbe("red top", "top_colour", "red"), AttributeProbe("cap", "hat", "cap"),
              AttributeProbe("skirt", "bottom_type", "skirt"))
    result = probe_attributes(images, encode, attrs, probes, k=5)
    first = result["per_probe"]["red top"]
    assert first["prompt"] == "a person wearing a red top"
    assert first["precision_at_k"] == 1.0 and first["base_rate"] == pytest.approx(0.25) and first["ap"] == 1.0
    assert first["positives"] == 10 and first["lift"] == pytest.approx(4.0)
    cap = result["per_probe"]["cap"]
    assert cap["precision_at_k"] == 1.0 and cap["base_rate"] == pytest.approx(0.75)
    skirt = result["per_probe"]["skirt"]
    assert skirt["positives"] == 0 and skirt["base_rate"] == 0.0 and skirt["ap"] is None and skirt["lift"] is None
    assert list(result["per_probe"]) == ["red top", "cap", "skirt"]
    assert result["probes"] == 2 and result["above_base_rate"] == 2 and result["k"] == 5


def test_probe_scores_are_relative_to_the_sibling_prompts():
    """An image every prompt of the family likes equally gets no boost from the probe's prompt."""
    image = F.normalize(torch.tensor([[1.0, 1.0, 0.0]]), dim=-1)
    family = torch.eye(3)[:2]  # "red" and "blue" prompts, both at 45 degrees from the image
    assert probe_scores(image, family, 100.0)[0].tolist() == pytest.approx([0.5, 0.5])


def test_probing_needs_one_attribute_dict_per_image():
    with pytest.raises(InputError, match="one attribute dict per image"):
        probe_attributes(torch.eye(2), _axis_encoder({}), [{}], k=1)
