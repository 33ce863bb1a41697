"""Occluded-REID and P-DukeMTMC-reID: the ICME 2018 "body images" layout (<pid>/ sub-folders,
pid from the file name prefix, camid = occluded 0 / whole body 1)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from scing_core.data import load_dataset
from scing_core.errors import DatasetError

from .test_datasets import touch


def occluded_reid_tree(folder: Path, pids=(1, 2, 3), per_id=2) -> Path:
    for kind in ("occluded_body_images", "whole_body_images"):
        for pid in pids:
            touch(folder / kind / f"{pid:03d}", [f"{pid:03d}_{n:02d}.tif" for n in range(1, per_id + 1)])
    return folder


def test_occluded_reid_is_test_only_with_occluded_queries_and_whole_body_gallery(tmp_path):
    occluded_reid_tree(tmp_path / "Occluded_REID")
    ds = load_dataset("occluded_reid", tmp_path)
    assert ds.train == [] and ds.extras["test_only"] is True and ds.num_train_pids == 0
    assert [(Path(s.path).name, s.pid, s.camid) for s in ds.query[:3]] == [
        ("001_01.tif", 1, 0), ("001_02.tif", 1, 0), ("002_01.tif", 2, 0)]
    assert {s.camid for s in ds.gallery} == {1} and len(ds.gallery) == 6
    assert all("whole_body_images" in s.path for s in ds.gallery)
    assert ds.num_cams == 2


def test_occluded_reid_found_under_the_icme_release_folder(tmp_path):
    occluded_reid_tree(tmp_path / "ICME2018_Occluded-Person-Reidentification_datasets" / "Occluded_REID")
    assert len(load_dataset("occluded_reid", tmp_path).query) == 6


def test_occluded_reid_takes_the_pid_from_the_file_name_not_the_folder(tmp_path):
    folder = occluded_reid_tree(tmp_path, pids=(4,))
    touch(folder / "whole_body_images" / "004", ["017_01.tif"])  # misfiled image: the name wins
    ds = load_dataset("occluded_reid", folder)
    assert sorted({s.pid for s in ds.gallery}) == [4, 17]


def test_occluded_reid_skips_unparsable_names_with_one_warning(tmp_path, caplog):
    folder = occluded_reid_tree(tmp_path)
    touch(folder / "occluded_body_images" / "001", ["IMG_0001.tif", "photo.tif"])
    with caplog.at_level(logging.WARNING):
        ds = load_dataset("occluded_reid", folder)
    assert len(ds.query) == 6
    assert len(caplog.records) == 1 and "skipped 2" in caplog.records[0].getMessage()


def test_occluded_reid_without_whole_body_images_names_the_missing_folder(tmp_path):
    touch(tmp_path / "Occluded_REID" / "occluded_body_images" / "001", ["001_01.tif"])
    with pytest.raises(DatasetError) as err:
        load_dataset("occluded_reid", tmp_path)
    assert "lacks whole_body_images" in str(err.value)


def p_duke_tree(folder: Path) -> Path:
    # identity 0012 appears in both train folders; 0034 only whole-body; 0007 only occluded
    touch(folder / "train" / "whole_body_images" / "0012", ["0012_c1_f0001.jpg", "0012_c5_f0002.jpg"])
    touch(folder / "train" / "whole_body_images" / "0034", ["0034_c2_f0003.jpg"])
    touch(folder / "train" / "occluded_body_images" / "0012", ["0012_c3_f0004.jpg"])
    touch(folder / "train" / "occluded_body_images" / "0007", ["0007_c4_f0005.jpg"])
    touch(folder / "test" / "occluded_body_images" / "0100", ["0100_c2_f0006.jpg"])
    touch(folder / "test" / "whole_body_images" / "0100", ["0100_c6_f0007.jpg", "0100_c7_f0008.jpg"])
    touch(folder / "test" / "whole_body_images" / "0200", ["0200_c1_f0009.jpg"])
    return folder


def test_p_dukemtmc_relabels_ids_over_both_train_folders(tmp_path):
    p_duke_tree(tmp_path / "P-DukeMTMC-reid")
    ds = load_dataset("p_dukemtmc", tmp_path)
    labels = {(Path(s.path).name, s.pid, s.camid) for s in ds.train}
    # original pids 7, 12, 34 -> 0, 1, 2; the same person in both folders gets one label
    assert labels == {("0007_c4_f0005.jpg", 0, 0), ("0012_c3_f0004.jpg", 1, 0), ("0012_c1_f0001.jpg", 1, 1),
                      ("0012_c5_f0002.jpg", 1, 1), ("0034_c2_f0003.jpg", 2, 1)}
    assert ds.num_train_pids == 3 and ds.num_cams == 2


def test_p_dukemtmc_queries_are_occluded_camid_0_and_gallery_whole_body_camid_1(tmp_path):
    ds = load_dataset("p_dukemtmc", p_duke_tree(tmp_path / "P-DukeMTMC-reID"))
    assert [(s.pid, s.camid) for s in ds.query] == [(100, 0)]
    assert [(s.pid, s.camid) for s in ds.gallery] == [(100, 1), (100, 1), (200, 1)]


def test_p_dukemtmc_missing_test_folder_is_reported(tmp_path):
    folder = p_duke_tree(tmp_path / "P-DukeMTMC-reid")
    for path in sorted((folder / "test" / "whole_body_images").rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    (folder / "test" / "whole_body_images").rmdir()
    with pytest.raises(DatasetError) as err:
        load_dataset("p_dukemtmc", tmp_path)
    assert "test/whole_body_images" in str(err.value)


def test_p_dukemtmc_empty_train_split_is_an_error(tmp_path):
    folder = p_duke_tree(tmp_path)
    for path in (folder / "train").rglob("*.jpg"):
        path.unlink()
    with pytest.raises(DatasetError, match="train split is empty"):
        load_dataset("p_dukemtmc", folder)
