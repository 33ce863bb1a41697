"""MSMT17: V1 / V2 / plain folders, list files with ``<path> <pid>``, camid from the name's third
field, train = train + val unless use_val=False."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from scing_core.data import load_dataset
from scing_core.errors import DatasetError

from .test_datasets import touch

LISTS = {
    "list_train.txt": ["0000/0000_000_01_0303morning_0015_0.jpg 0", "0000/0000_001_05_0303morning_0036_1.jpg 0",
                       "0003/0003_004_15_0303noon_0101_0.jpg 3"],
    "list_val.txt": ["0001/0001_002_02_0303morning_0040_0.jpg 1"],
    "list_query.txt": ["0000/0000_000_07_0303afternoon_0005_0.jpg 0"],
    "list_gallery.txt": ["0000/0000_001_09_0303afternoon_0100_0.jpg 0", "0042/0042_000_12_0113noon_0020_1.jpg 42"],
}


def msmt_tree(folder: Path, train_dir="train", test_dir="test", lists=LISTS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, lines in lists.items():
        (folder / name).write_text("\n".join(lines) + "\n")
        image_dir = folder / (test_dir if name in ("list_query.txt", "list_gallery.txt") else train_dir)
        touch(image_dir, [line.split()[0] for line in lines])
    return folder


@pytest.mark.parametrize("folder, train_dir, test_dir, version", [
    ("MSMT17_V1", "train", "test", "V1"), ("MSMT17_V2", "mask_train_v2", "mask_test_v2", "V2"),
    ("MSMT17", "train", "test", "V1"), ("msmt17/MSMT17_V2", "mask_train_v2", "mask_test_v2", "V2")])
def test_msmt17_layouts_give_the_same_samples(tmp_path, folder, train_dir, test_dir, version):
    msmt_tree(tmp_path / folder, train_dir, test_dir)
    ds = load_dataset("msmt17", tmp_path)
    assert {k: v for k, v in ds.extras.items() if k != "train_pids"} == {"use_val": True, "version": version}
    assert ds.num_cams == 15
    assert [(Path(s.path).name, s.pid, s.camid) for s in ds.train] == [
        ("0000_000_01_0303morning_0015_0.jpg", 0, 0), ("0000_001_05_0303morning_0036_1.jpg", 0, 4),
        ("0001_002_02_0303morning_0040_0.jpg", 1, 1), ("0003_004_15_0303noon_0101_0.jpg", 2, 14)]
    assert all(f"/{train_dir}/" in s.path for s in ds.train)


def test_msmt17_keeps_test_pid_zero_as_an_identity(tmp_path):
    ds = load_dataset("msmt17", msmt_tree(tmp_path / "MSMT17_V1"))
    assert [(s.pid, s.camid) for s in ds.query] == [(0, 6)]
    assert [(s.pid, s.camid) for s in ds.gallery] == [(0, 8), (42, 11)]


def test_msmt17_use_val_false_trains_on_the_train_list_only(tmp_path):
    ds = load_dataset("msmt17", msmt_tree(tmp_path / "MSMT17_V1"), use_val=False)
    assert len(ds.train) == 3 and ds.num_train_pids == 2 and ds.extras["use_val"] is False


def test_msmt17_without_val_list_explains_the_switch(tmp_path):
    folder = msmt_tree(tmp_path / "MSMT17_V1")
    (folder / "list_val.txt").unlink()
    with pytest.raises(DatasetError, match="use_val=False"):
        load_dataset("msmt17", folder)
    assert len(load_dataset("msmt17", folder, use_val=False).train) == 3


def test_msmt17_skips_malformed_lines_and_missing_files_with_warnings(tmp_path, caplog):
    lists = dict(LISTS)
    lists["list_gallery.txt"] = LISTS["list_gallery.txt"] + ["0050/0050_000_xx_0113noon_0020_1.jpg 50",
                                                             "just-a-path.jpg"]
    folder = msmt_tree(tmp_path / "MSMT17_V1", lists=lists)
    (folder / "test" / "0042" / "0042_000_12_0113noon_0020_1.jpg").unlink()
    with caplog.at_level(logging.WARNING):
        ds = load_dataset("msmt17", folder)
    assert [s.pid for s in ds.gallery] == [0]
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert "skipped 2" in messages[0] and "list_gallery.txt:3" in messages[0]
    assert "missing on disk" in messages[1] and "0042_000_12" in messages[1]


def test_msmt17_without_image_folders_lists_the_expected_names(tmp_path):
    folder = msmt_tree(tmp_path / "MSMT17_V2", train_dir="images_train", test_dir="mask_test_v2")
    with pytest.raises(DatasetError) as err:
        load_dataset("msmt17", folder)
    message = str(err.value)
    assert "mask_train_v2" in message and "images_train" in message


def test_msmt17_without_list_files_is_reported(tmp_path):
    touch(tmp_path / "MSMT17_V1" / "train" / "0000", ["0000_000_01_0303morning_0015_0.jpg"])
    with pytest.raises(DatasetError) as err:
        load_dataset("msmt17", tmp_path)
    assert "list_train.txt" in str(err.value) and "MSMT17_V1" in str(err.value)
