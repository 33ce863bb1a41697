"""The dataset's own person ids stay reachable after training labels replace them (0..N-1), also
through a validation hold-out: what the studio shows ("train · id 12" for files 0012_*)."""

from __future__ import annotations

from pathlib import Path

from scing_core.data import load_dataset
from scing_core.data.val_split import hold_out_validation

from tests.core.data.test_dataset_occluded import p_duke_tree


def own_id(path: str) -> int:
    return int(Path(path).name.split("_")[0])


def test_training_labels_map_back_to_the_ids_in_the_file_names(tmp_path):
    ds = load_dataset("p_dukemtmc", p_duke_tree(tmp_path / "P-DukeMTMC-reID"))
    assert {ds.dataset_pid("train", s.pid) for s in ds.train} == {7, 12, 34}
    assert all(ds.dataset_pid("train", s.pid) == own_id(s.path) for s in ds.train)
    assert all(ds.dataset_pid("query", s.pid) == own_id(s.path) == s.pid for s in ds.query)


def test_a_validation_hold_out_keeps_the_dataset_ids_of_both_parts(tiny_synthped):
    ds = load_dataset("synthped", tiny_synthped)
    assert all(ds.dataset_pid("train", s.pid) == own_id(s.path) for s in ds.train)
    train, val = hold_out_validation(ds, 3)
    assert all(train.dataset_pid("train", s.pid) == own_id(s.path) for s in train.train)
    assert all(val.dataset_pid(split, s.pid) == own_id(s.path) for split in ("query", "gallery")
               for s in val.split(split))
