"""Market-layout loaders (market1501, dukemtmc, occluded_duke, occluded_market), the registry and
the errors a user meets. Trees use each benchmark's real folder and file naming; files are empty
where only names matter."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from scing_core.data import list_datasets, load_dataset, register_dataset
from scing_core.data.datasets import DATASETS
from scing_core.data.types import ReIDDataset, ReIDSample
from scing_core.errors import DatasetError, RegistryError

BUILTIN = {"market1501", "dukemtmc", "occluded_duke", "occluded_reid", "p_dukemtmc",
           "occluded_market", "msmt17", "synthped", "custom"}

MARKET_TRAIN = ["0002_c1s1_000451_03.jpg", "0002_c2s1_000301_01.jpg", "0007_c6s1_001526_02.jpg",
                "0005_c3s1_000551_01.jpg"]
MARKET_QUERY = ["0002_c3s1_000551_00.jpg", "0007_c1s1_000401_00.jpg"]
MARKET_GALLERY = ["0002_c4s1_000876_01.jpg", "0007_c5s1_000526_02.jpg", "0000_c1s1_000151_01.jpg",
                  "0000_c6s1_000876_05.jpg", "-1_c1s1_000401_03.jpg", "-1_c2s1_000326_06.jpg"]


def touch(folder: Path, names) -> list[Path]:
    """Create empty files ``folder/name`` (parents included)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / n for n in names]
    for p in paths:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"")
    return paths


def write_images(folder: Path, names) -> list[Path]:
    """Create tiny real 8x4 images ``folder/name`` (the format follows the suffix)."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, name in enumerate(names):
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (4, 8), (10 * i % 255, 40, 90)).save(path)
        paths.append(path)
    return paths


def market_tree(folder: Path, train=MARKET_TRAIN, query=MARKET_QUERY, gallery=MARKET_GALLERY,
                dirs=("bounding_box_train", "query", "bounding_box_test"), files=touch) -> Path:
    for sub, names in zip(dirs, (train, query, gallery)):
        files(folder / sub, names)
    return folder


def test_every_benchmark_of_the_design_is_registered():
    assert BUILTIN <= set(list_datasets())


def test_market1501_parses_pids_camids_and_relabels_train_ids(tmp_path):
    market_tree(tmp_path / "Market-1501-v15.09.15")
    ds = load_dataset("market1501", tmp_path)
    assert isinstance(ds, ReIDDataset) and ds.num_cams == 6
    # train pids 2, 5, 7 -> 0, 1, 2 in sorted order of the original pids; camids 0-based
    assert [(Path(s.path).name, s.pid, s.camid) for s in ds.train] == [
        ("0002_c1s1_000451_03.jpg", 0, 0), ("0002_c2s1_000301_01.jpg", 0, 1),
        ("0005_c3s1_000551_01.jpg", 1, 2), ("0007_c6s1_001526_02.jpg", 2, 5)]
    assert ds.num_train_pids == 3
    assert [(s.pid, s.camid) for s in ds.query] == [(2, 2), (7, 0)]
    path, pid, camid = ds.query[0]
    assert (pid, camid) == (2, 2) and path.endswith("0002_c3s1_000551_00.jpg")


def test_market1501_drops_junk_and_keeps_distractors_in_the_gallery_only(tmp_path):
    market_tree(tmp_path, train=MARKET_TRAIN + ["0000_c1s1_000001_01.jpg", "-1_c2s1_000002_01.jpg"],
                query=MARKET_QUERY + ["0000_c2s1_000003_01.jpg"])
    ds = load_dataset("market1501", tmp_path)
    gallery_pids = [s.pid for s in ds.gallery]
    assert -1 not in gallery_pids and gallery_pids.count(0) == 2
    assert len(ds.gallery) == 4
    assert len(ds.train) == len(MARKET_TRAIN) and {s.pid for s in ds.train} == {0, 1, 2}
    assert 0 not in {s.pid for s in ds.query} and len(ds.query) == 2


@pytest.mark.parametrize("layout", ["folder", "parent", "nested_parent", "plain_parent"])
def test_root_may_be_the_dataset_folder_or_a_parent(tmp_path, layout):
    folder = {"folder": tmp_path / "anything", "parent": tmp_path / "Market-1501-v15.09.15",
              "nested_parent": tmp_path / "market1501" / "Market-1501-v15.09.15",
              "plain_parent": tmp_path / "market1501"}[layout]
    market_tree(folder)
    root = folder if layout == "folder" else tmp_path
    ds = load_dataset("market1501", root)
    assert Path(ds.root) == folder
    assert (len(ds.train), len(ds.query), len(ds.gallery)) == (4, 2, 4)


def test_only_the_basename_is_parsed_never_the_parent_folders(tmp_path):
    folder = tmp_path / "0099_c3_backup" / "Market-1501-v15.09.15"
    market_tree(folder)
    ds = load_dataset("market1501", tmp_path / "0099_c3_backup")
    assert {s.pid for s in ds.query} == {2, 7}


def test_a_relative_root_gives_absolute_sample_paths(tmp_path, monkeypatch):
    market_tree(tmp_path / "data" / "market1501")
    monkeypatch.chdir(tmp_path)
    ds = load_dataset("market1501", "data")
    assert Path(ds.root).is_absolute() and all(Path(s.path).is_absolute() for s in ds.gallery)


def test_splits_come_back_in_sorted_reproducible_order(tmp_path):
    market_tree(tmp_path, train=list(reversed(MARKET_TRAIN)))
    first, second = load_dataset("market1501", tmp_path), load_dataset("market1501", tmp_path)
    assert [s.path for s in first.train] == sorted(s.path for s in first.train)
    assert first.train == second.train and first.gallery == second.gallery


def test_unparsable_names_are_skipped_with_one_warning(tmp_path, caplog):
    bad = ["Thumbs.jpg", "abc_c1s1_0001.jpg", "0001_x1_0002.jpg", "0003_c0s1_000001_01.jpg"]
    market_tree(tmp_path, train=MARKET_TRAIN + bad[:2], gallery=MARKET_GALLERY + bad[2:])
    (tmp_path / "query" / "readme.txt").write_text("not an image")
    with caplog.at_level(logging.WARNING):
        ds = load_dataset("market1501", tmp_path)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert "skipped 4" in message and message.count(".jpg") == 3
    assert len(ds.train) == len(MARKET_TRAIN)


def test_missing_folder_error_lists_the_expected_and_found_folders(tmp_path):
    touch(tmp_path / "Market-1501-v15.09.15" / "bounding_box_train", MARKET_TRAIN)
    touch(tmp_path / "Market-1501-v15.09.15" / "query", MARKET_QUERY)
    with pytest.raises(DatasetError) as err:
        load_dataset("market1501", tmp_path)
    message = str(err.value)
    assert "bounding_box_test" in message and "Market-1501-v15.09.15" in message
    assert "lacks bounding_box_test" in message


def test_misnamed_dataset_folder_error_names_what_was_found(tmp_path):
    market_tree(tmp_path / "Market1501_copy")
    with pytest.raises(DatasetError) as err:
        load_dataset("market1501", tmp_path)
    message = str(err.value)
    assert "Market1501_copy" in message and "market1501" in message and "bounding_box_train" in message


def test_root_that_does_not_exist_is_a_dataset_error(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset("dukemtmc", tmp_path / "nowhere")


def test_empty_split_is_an_error_naming_the_split(tmp_path):
    market_tree(tmp_path, query=["-1_c1s1_000001_01.jpg"])  # only junk: nothing usable
    with pytest.raises(DatasetError, match="query split is empty"):
        load_dataset("market1501", tmp_path)


def test_unknown_dataset_name_lists_the_valid_names(tmp_path):
    with pytest.raises(RegistryError) as err:
        load_dataset("market1502", tmp_path)
    message = str(err.value)
    assert "market1501" in message and "msmt17" in message and "Did you mean 'market1501'" in message


def test_more_cameras_than_the_benchmark_has_widens_num_cams_with_a_warning(tmp_path, caplog):
    market_tree(tmp_path, gallery=MARKET_GALLERY + ["0002_c7s1_000001_01.jpg"])
    with caplog.at_level(logging.WARNING):
        ds = load_dataset("market1501", tmp_path)
    assert ds.num_cams == 7 and "7 cameras" in caplog.text


DUKE_TRAIN = ["0001_c2_f0046182.jpg", "0001_c5_f0051341.jpg", "0008_c8_f0017054.jpg"]
DUKE_QUERY = ["0005_c2_f0046985.jpg"]
DUKE_GALLERY = ["0005_c1_f0045001.jpg", "0005_c7_f0049972.jpg", "0019_c3_f0028345.jpg"]


@pytest.mark.parametrize("name, folder", [
    ("dukemtmc", "DukeMTMC-reID"), ("dukemtmc", "dukemtmc-reid/DukeMTMC-reID"),
    ("dukemtmc", "dukemtmcreid"), ("occluded_duke", "Occluded_Duke")])
def test_duke_family_uses_duke_naming_and_eight_cameras(tmp_path, name, folder):
    market_tree(tmp_path / folder, DUKE_TRAIN, DUKE_QUERY, DUKE_GALLERY)
    ds = load_dataset(name, tmp_path)
    assert ds.num_cams == 8 and ds.name == name
    assert [(s.pid, s.camid) for s in ds.train] == [(0, 1), (0, 4), (1, 7)]
    assert [(s.pid, s.camid) for s in ds.gallery] == [(5, 0), (5, 6), (19, 2)]


def test_occluded_market_reads_its_own_folder_names(tmp_path):
    market_tree(tmp_path / "Occluded_Market",
                ["0001_c1s0004_011.jpg", "0001_c2s0012_003.jpg", "0004_c3s0001_001.jpg"],
                ["0010_c1s0007_002.jpg"], ["0010_c4s0002_001.jpg", "0000_c1s0001_001.jpg"],
                dirs=("occluded_train", "occluded_query", "bounding_box_test"))
    ds = load_dataset("occluded_market", tmp_path)
    assert [(s.pid, s.camid) for s in ds.train] == [(0, 0), (0, 1), (1, 2)]
    assert [(s.pid, s.camid) for s in ds.query] == [(10, 0)]
    assert sorted(s.pid for s in ds.gallery) == [0, 10] and ds.num_cams == 6


def test_occluded_market_in_plain_market_folders_is_reported_as_misnamed(tmp_path):
    market_tree(tmp_path / "Occluded_Market")
    with pytest.raises(DatasetError) as err:
        load_dataset("occluded_market", tmp_path)
    assert "occluded_train" in str(err.value) and "occluded_query" in str(err.value)


def test_a_user_can_register_their_own_loader(tmp_path):
    def load_campus(root: str, scale: int = 1) -> ReIDDataset:
        sample = ReIDSample(str(Path(root) / "a.jpg"), 0, 0)
        return ReIDDataset("campus", root, [sample] * scale, [sample], [sample], num_cams=1)

    register_dataset("campus_test_only", load_campus)
    try:
        assert "campus_test_only" in list_datasets()
        ds = load_dataset("Campus_Test_Only", tmp_path, scale=3)
        assert ds.name == "campus" and len(ds.train) == 3
        with pytest.raises(RegistryError, match="already registered"):
            register_dataset("campus_test_only", load_campus)
    finally:
        DATASETS._items.pop("campus_test_only", None)
