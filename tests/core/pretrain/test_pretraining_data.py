"""SynthCLIP's pre-training SynthPed: other people than the demo's, reused when it matches."""

from __future__ import annotations

import json

import pytest

from scing_core.data.synthped import generate_synthped
from scing_core.errors import DatasetError
from scing_core.pretrain.captions import (PID_OFFSET, load_images, prepare_pretraining_data, pretraining_parameters,
                                          read_caption_records, shared_identities)

# the demo's SynthPed (scing_core.demo.workspace.DemoSettings): identity seed = seed, pids from 1
DEMO_FULL = dict(ids=120, images_per_id=10, cams=6, size=[128, 64], occluded=False, seed=0, distractors=60,
                 identity_seed=0, pid_offset=0)


@pytest.fixture(scope="module")
def pretraining_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("synthclip") / "data"
    prepare_pretraining_data(folder, ids=12, images_per_id=2, seed=0)
    return folder


def test_pretraining_people_are_not_the_default_demo_people():
    for seed in (0, 1, 1000):  # seed 1000: the identity seed the pre-training of seed 0 uses
        demo = dict(DEMO_FULL, seed=seed, identity_seed=seed)
        shared = shared_identities(pretraining_parameters(ids=800, images_per_id=3, seed=0), demo)
        assert shared == {"same_people": [], "look_alikes": []}


def test_identity_check_finds_people_a_dataset_shares():
    params = pretraining_parameters(ids=20, images_per_id=2, seed=3)
    shared = shared_identities(params, params)
    assert len(shared["same_people"]) == 20 and shared["look_alikes"] == []


def test_generated_pretraining_folder_is_disjoint_from_a_default_seed_synthped(pretraining_dir, tmp_path):
    demo_dir = tmp_path / "demo"
    generate_synthped(demo_dir, ids=12, images_per_id=2, cams=3, size=(32, 16), distractors=0)  # seed 0, as the demo
    assert shared_identities(pretraining_dir, demo_dir) == {"same_people": [], "look_alikes": []}
    meta = json.loads((pretraining_dir / "meta.json").read_text())
    assert min(meta["train_pids"] + meta["test_pids"]) == PID_OFFSET + 1
    demo_meta = json.loads((demo_dir / "meta.json").read_text())
    assert not set(meta["train_pids"] + meta["test_pids"]) & set(demo_meta["train_pids"] + demo_meta["test_pids"])


def test_matching_folder_is_reused_without_rewriting(pretraining_dir):
    meta = pretraining_dir / "meta.json"
    before = meta.stat().st_mtime_ns
    prepare_pretraining_data(pretraining_dir, ids=12, images_per_id=2, seed=0)
    assert meta.stat().st_mtime_ns == before


def test_a_synthped_that_synthclip_did_not_make_is_refused(tiny_synthped):
    with pytest.raises(DatasetError, match="SynthCLIP did not make"):
        prepare_pretraining_data(tiny_synthped, ids=12, images_per_id=2, seed=0)


def test_interrupted_data_is_regenerated_only_when_synthclip_made_it(tmp_path):
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    for folder, offset in ((ours, PID_OFFSET), (theirs, 0)):
        folder.mkdir()
        marker = {"generator": "synthped", "parameters": dict(pretraining_parameters(12, 2, 0), pid_offset=offset)}
        (folder / ".synthped-incomplete").write_text(json.dumps(marker))
    prepare_pretraining_data(ours, ids=12, images_per_id=2, seed=0)
    assert json.loads((ours / "meta.json").read_text())["parameters"] == pretraining_parameters(12, 2, 0)
    assert not (ours / ".synthped-incomplete").exists()
    with pytest.raises(DatasetError, match="did not make"):
        prepare_pretraining_data(theirs, ids=12, images_per_id=2, seed=0)


def test_caption_records_split_train_from_held_out_people(pretraining_dir):
    train = read_caption_records(pretraining_dir, ("train",))
    held_out = read_caption_records(pretraining_dir, ("query", "gallery"))
    assert len(train) == 12 and len(held_out) == 12
    assert not {r.pid for r in train} & {r.pid for r in held_out}
    assert all(r.caption and "gender" in r.attributes for r in train + held_out)
    images = load_images(train[:3])
    assert images.shape == (3, 3, 128, 64) and images.dtype.is_floating_point is False


def test_folder_without_captions_is_refused(tmp_path):
    with pytest.raises(DatasetError, match="captions.jsonl"):
        read_caption_records(tmp_path)
