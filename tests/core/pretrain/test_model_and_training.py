"""SynthCLIP's model helpers and training pieces: text encoding, batches, augmentation, checkpoints."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from scing_core.errors import CheckpointError
from scing_core.pretrain.captions import CaptionRecord, CaptionSampler, partial_caption
from scing_core.pretrain.model import (create_synthclip_model, encode_texts, load_checkpoint, save_checkpoint,
                                       tokenize)
from scing_core.pretrain.training import TrainingRecipe, augment, epoch_order, parameter_groups, train_contrastive

CAPTIONS = ["a man with short black hair wearing a red short-sleeved top, blue trousers and white shoes",
            "a woman", "a woman with long blonde hair wearing a green checked long-sleeved top and a black skirt"]


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return create_synthclip_model().eval()


def test_truncated_text_encoding_equals_open_clip_encode_text(model):
    tokens = tokenize(CAPTIONS)
    assert tokens.shape == (3, 77)
    with torch.no_grad():
        expected = F.normalize(model.encode_text(tokens), dim=-1)
        torch.testing.assert_close(encode_texts(model, tokens), expected, atol=1e-5, rtol=1e-4)


def test_model_takes_synthped_sized_images(model):
    assert tuple(model.visual.image_size) == (128, 64)
    with torch.no_grad():
        assert model.encode_image(torch.zeros(2, 3, 128, 64)).shape == (2, model.text_projection.shape[1])


def test_epoch_order_visits_every_image_once_and_each_person_once_per_round():
    pids = [p for p in range(10) for _ in range(3)]
    order = epoch_order(pids, torch.Generator().manual_seed(0))
    assert sorted(order) == list(range(30))
    for r in range(3):
        assert sorted(pids[i] for i in order[10 * r:10 * (r + 1)]) == list(range(10))
    assert order != epoch_order(pids, torch.Generator().manual_seed(1))


def test_augmentation_flips_and_shifts_without_changing_colours():
    images = torch.randint(0, 256, (4, 3, 16, 8), dtype=torch.uint8)
    flipped = augment(images, TrainingRecipe(epochs=1, flip_p=1.0, max_shift=0), torch.Generator())
    assert torch.equal(flipped, images.flip(-1))
    shifted = augment(images, TrainingRecipe(epochs=1, flip_p=0.0, max_shift=2), torch.Generator().manual_seed(3))
    assert shifted.shape == images.shape and shifted.dtype == torch.uint8
    values = set(images.unique().tolist()) | {0}
    assert set(shifted.unique().tolist()) <= values  # pixels move (or become padding), never change


ATTRIBUTES = {"view": "back", "gender": "woman", "hair_colour": "black", "hair_length": "long", "top_colour": "red",
              "top_pattern": "plain", "sleeves": "short", "build": "slim", "bottom_colour": "blue",
              "bottom_type": "skirt", "shoes_colour": "white", "bag": "backpack", "bag_colour": "black"}


def test_partial_captions_name_only_attributes_the_image_shows():
    generator = torch.Generator().manual_seed(0)
    texts = {partial_caption(ATTRIBUTES, generator) for _ in range(60)}
    assert len(texts) > 10
    assert "a person wearing a red short-sleeved top" in texts  # gender dropped, top kept alone
    allowed = set("a an and with wearing carrying , person woman long black hair red short-sleeved top blue skirt "
                  "white shoes backpack".replace(",", "").split())
    for text in texts:
        assert set(text.replace(",", "").split()) <= allowed, text


def test_caption_sampler_mixes_full_and_partial_captions():
    records = [CaptionRecord("x.jpg", "train", 1, "a woman with long black hair wearing a red short-sleeved top, "
                             "a blue skirt and white shoes, carrying a black backpack", ATTRIBUTES)] * 8
    generator = torch.Generator().manual_seed(0)
    assert torch.equal(CaptionSampler(records, 0.0).tokens(torch.arange(8), generator), tokenize([records[0].caption] * 8))
    mixed = CaptionSampler(records, 0.5).tokens(torch.arange(8), generator)
    full = tokenize([records[0].caption])[0]
    assert 0 < sum(torch.equal(row, full) for row in mixed) < 8


def test_gains_biases_and_logit_scale_get_no_weight_decay(model):
    no_decay, decay = parameter_groups(model, 0.1)
    assert no_decay["weight_decay"] == 0.0 and decay["weight_decay"] == 0.1
    assert any(p is model.logit_scale for p in no_decay["params"])
    assert any(p is model.visual.conv1.weight for p in decay["params"])
    assert len(no_decay["params"]) + len(decay["params"]) == len(list(model.parameters()))


def test_a_few_steps_lower_the_contrastive_loss_on_a_fixed_batch():
    torch.manual_seed(1)
    model = create_synthclip_model()
    images = torch.randint(0, 256, (3, 3, 128, 64), dtype=torch.uint8)
    records = [CaptionRecord(f"{pid}.jpg", "train", pid, text, {}) for pid, text in enumerate(CAPTIONS, 1)]
    recipe = TrainingRecipe(epochs=8, batch_size=3, lr=1e-3, warmup_fraction=0.1, max_shift=0, flip_p=0.0,
                            partial_caption_p=0.0)
    calls = []
    history = train_contrastive(model, images, records, recipe,
                                on_step=lambda done, total, detail: calls.append((done, total)))
    assert calls[-1] == (8, 8) and history["steps"] == 8
    assert history["epoch_loss"][-1] < history["epoch_loss"][0]


def test_checkpoint_round_trip_is_weights_only_loadable(model, tmp_path):
    path = save_checkpoint(tmp_path / "clip.pt", model, arch="synthclip-s", image_size=(128, 64),
                           metrics={"zero_shot": {"i2t_r1": 0.5}}, config={"seed": 0})
    payload = torch.load(path, weights_only=True)
    assert set(payload) == {"state_dict", "arch", "image_size", "activation", "metrics", "config"}
    assert not list(tmp_path.glob(".*tmp*"))
    loaded, extras = load_checkpoint(path)
    assert extras["metrics"] == {"zero_shot": {"i2t_r1": 0.5}} and extras["image_size"] == [128, 64]
    for name, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], value), name


def test_missing_checkpoint_says_how_to_make_one(tmp_path):
    with pytest.raises(CheckpointError, match="scing synthclip"):
        load_checkpoint(tmp_path / "none.pt")
