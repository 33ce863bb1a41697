"""The Dataset explorer's view-model (no display): counts per split, identities by group, histograms,
and which loader a data folder belongs to."""

from __future__ import annotations

from types import SimpleNamespace

from app.state.dataset_summary import DatasetSummary, guess_dataset_name


def _dataset():
    train = [SimpleNamespace(path=f"/d/bounding_box_train/{p}_{i}.jpg", pid=p, camid=i % 2) for p in (0, 1) for i in range(3)]
    train += [SimpleNamespace(path="/d/bounding_box_train/2_0.jpg", pid=2, camid=0)]
    query = [SimpleNamespace(path="/d/query/7_0.jpg", pid=7, camid=0)]
    gallery = [SimpleNamespace(path="/d/bounding_box_test/7_1.jpg", pid=7, camid=1),
               SimpleNamespace(path="/d/bounding_box_test/0_1.jpg", pid=0, camid=2)]
    splits = {"train": train, "query": query, "gallery": gallery}
    return SimpleNamespace(root="/d", split=lambda name: splits[name])


def test_counts_per_split_leave_distractors_out_of_the_identities():
    notes = {"/d/query/7_0.jpg": {"caption": "a woman", "occlusion": 0.3}}
    summary = DatasetSummary.from_dataset("synthped", _dataset(), notes)
    rows = summary.table_rows()
    assert rows[0][:4] == ["train", "3", "7", "2"] and rows[0][4] == "1 / 3 / 3"
    assert rows[2][:4] == ["gallery", "1", "2 (+1 distractors)", "2"]
    assert rows[1][5] == "1 (100 %)"
    centres, counts = summary.stats["train"].histogram()
    assert centres.tolist() == [1.0, 2.0, 3.0] and counts.tolist() == [1, 0, 2]


def test_train_and_test_identities_are_kept_apart_and_samples_ordered_by_split():
    summary = DatasetSummary.from_dataset("synthped", _dataset())
    assert summary.identity_keys() == [("train", 0), ("train", 1), ("train", 2), ("test", 7)]
    assert [s.split for s in summary.samples_of(("test", 7))] == ["query", "gallery"]
    assert summary.identity_label(("test", 7)) == "test · id 7 — 1 query, 1 gallery"


def test_a_data_folder_is_matched_to_the_longest_registered_name_it_starts_with():
    names = ["market1501", "synthped", "occluded_duke", "dukemtmc"]
    assert guess_dataset_name("/ws/data/synthped_occluded", names) == "synthped"
    assert guess_dataset_name("/ws/data/Market-1501-v15.09.15", names) == "market1501"
    assert guess_dataset_name("/ws/data/Occluded_Duke", names) == "occluded_duke"
    assert guess_dataset_name("/ws/data/synthclip", names) is None


def test_identities_show_the_datasets_own_person_ids_not_training_labels(tiny_synthped):
    """Training labels are 0..N-1; the explorer shows the id the files carry ("train · id 12" for 0012_*)."""
    from pathlib import Path

    from scing_core.api import load_dataset

    dataset = load_dataset("synthped", tiny_synthped)
    summary = DatasetSummary.from_dataset("synthped", dataset)
    for group, pid in summary.identity_keys("train"):
        assert {int(Path(s.path).name.split("_")[0]) for s in summary.samples_of((group, pid))} == {pid}
    assert any(pid != label for (_, pid), label in zip(summary.identity_keys("train"), range(10**6)))
