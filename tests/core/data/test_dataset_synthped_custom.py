"""SynthPed (Market layout + masks / captions / meta) and the `custom` Market-layout loader."""

from __future__ import annotations

from pathlib import Path

import pytest

from scing_core.data import load_dataset
from scing_core.data.datasets.synthped import mask_path_for
from scing_core.errors import DatasetError

from .test_datasets import MARKET_GALLERY, MARKET_QUERY, MARKET_TRAIN, market_tree, touch

SYNTH_TRAIN = ["0001_c1s1_000000.png", "0001_c3s1_000001.png", "0002_c2s1_000002.png"]
SYNTH_QUERY = ["0101_c1s1_000100.png"]
SYNTH_GALLERY = ["0101_c2s1_000101.png", "0000_c4s1_000102.png"]


def synthped_tree(folder: Path, masks=True) -> Path:
    market_tree(folder, SYNTH_TRAIN, SYNTH_QUERY, SYNTH_GALLERY)
    if masks:
        touch(folder / "masks" / "bounding_box_train", [n for n in SYNTH_TRAIN[:2]])
        touch(folder / "masks" / "query", SYNTH_QUERY)
    (folder / "captions.jsonl").write_text('{"path": "query/0101_c1s1_000100.png", "caption": "a person"}\n')
    (folder / "meta.json").write_text("{}")
    return folder


@pytest.mark.parametrize("folder", ["synthped", "SynthPed", "synthped_occluded", "SynthPed-Occluded"])
def test_synthped_is_found_under_its_folder_names(tmp_path, folder):
    synthped_tree(tmp_path / folder)
    ds = load_dataset("synthped", tmp_path)
    assert ds.num_train_pids == 2 and ds.num_cams == 4
    assert sorted(s.pid for s in ds.gallery) == [0, 101]


def test_synthped_extras_point_at_masks_captions_and_meta(tmp_path):
    folder = synthped_tree(tmp_path / "synthped")
    ds = load_dataset("synthped", folder)
    assert ds.extras["mask_dir"] == str(folder / "masks")
    assert ds.extras["captions"] == str(folder / "captions.jsonl") and ds.extras["meta"] == str(folder / "meta.json")


def test_mask_path_for_finds_the_mask_of_an_image_or_returns_none(tmp_path):
    folder = synthped_tree(tmp_path)
    ds = load_dataset("synthped", folder)
    assert mask_path_for(ds, ds.train[0].path) == str(folder / "masks" / "bounding_box_train" / "0001_c1s1_000000.png")
    assert mask_path_for(ds, ds.query[0].path) == str(folder / "masks" / "query" / "0101_c1s1_000100.png")
    assert mask_path_for(ds, ds.train[2].path) is None  # this image has no mask file
    assert mask_path_for(ds, ds.gallery[0].path) is None


def test_synthped_without_masks_has_no_mask_dir(tmp_path):
    ds = load_dataset("synthped", synthped_tree(tmp_path, masks=False))
    assert "mask_dir" not in ds.extras and mask_path_for(ds, ds.query[0].path) is None


def test_custom_reads_any_market_layout_folder_and_counts_cameras(tmp_path):
    gallery = ["0002_c4s1_000876_01.jpg", "0000_c1s1_000151_01.jpg"]
    folder = market_tree(tmp_path / "my_campus_set", train=MARKET_TRAIN[:2], gallery=gallery)
    ds = load_dataset("custom", folder)
    assert ds.name == "custom" and ds.num_cams == 4  # cameras c1..c4 appear in the files
    assert [(s.pid, s.camid) for s in ds.train] == [(0, 0), (0, 1)]
    assert len(ds.query) == len(MARKET_QUERY) and "test_only" not in ds.extras


def test_custom_without_a_train_folder_is_test_only(tmp_path):
    touch(tmp_path / "query", MARKET_QUERY)
    touch(tmp_path / "bounding_box_test", MARKET_GALLERY)
    ds = load_dataset("custom", tmp_path)
    assert ds.train == [] and ds.extras["test_only"] is True and len(ds.gallery) == 4


def test_custom_folder_names_and_camera_count_are_options(tmp_path):
    market_tree(tmp_path, dirs=("train", "probe", "gallery"))
    ds = load_dataset("custom", tmp_path, train_dir="train", query_dir="probe", gallery_dir="gallery", num_cams=10)
    assert (len(ds.train), len(ds.query), len(ds.gallery), ds.num_cams) == (4, 2, 4, 10)


def test_custom_root_must_be_the_folder_itself(tmp_path):
    market_tree(tmp_path / "inner")
    with pytest.raises(DatasetError) as err:
        load_dataset("custom", tmp_path)
    assert "inner" in str(err.value) and "query" in str(err.value)


def test_custom_with_an_empty_train_folder_is_an_error_not_test_only(tmp_path):
    market_tree(tmp_path, train=[])
    with pytest.raises(DatasetError, match="train split is empty"):
        load_dataset("custom", tmp_path)
