"""The modality-gap view-model (no display): drawing arrays, hover descriptions, eval folders, requests."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from app.state.gap import GapRequest
from app.state.gap_view import IMAGE, TEXT, GapView, eval_folder_for


def _view(text_kind="prototype", annotations=None):
    result = SimpleNamespace(run="/ws/runs/scing", text_kind=text_kind, pids=np.array([4, 4, 9]),
                             image_xy=np.array([[0.0, 0.0], [1.0, 0.0], [5.0, 5.0]]),
                             text_xy=np.array([[0.0, 1.0], [0.0, 1.0], [5.0, 6.0]]),
                             paths=["/data/query/0004_c1.jpg", "/data/query/0004_c2.jpg", "/data/query/0009_c1.jpg"])
    return GapView.from_result(result, "scing · SCING", annotations)


def test_pair_segments_interleave_each_image_with_its_text():
    x, y = _view().pair_segments()
    assert x.tolist() == [0.0, 0.0, 1.0, 0.0, 5.0, 5.0] and y.tolist() == [0.0, 1.0, 0.0, 1.0, 5.0, 6.0]


def test_an_image_point_describes_its_image_identity_caption_and_occlusion():
    notes = {"/data/query/0009_c1.jpg": {"caption": "a man in a <red> coat", "occlusion": 0.42}}
    text = _view(annotations=notes).describe(IMAGE, 2)
    assert "file:///data/query/0009_c1.jpg" in text and "identity <b>9</b>" in text
    assert "a man in a &lt;red&gt; coat" in text and "occluded: 42 %" in text


def test_a_prototype_text_point_counts_the_images_it_pairs_with():
    text = _view().describe(TEXT, 0)
    assert "prototype" in text and "identity <b>4</b>" in text and "paired with 2 image(s)" in text
    assert "written for this image" in _view("conditioned").describe(TEXT, 1)


def test_a_clicked_image_finds_the_eval_folder_of_its_data_folder():
    folders = ["synthped@synthped", "synthped@synthped_occluded"]
    assert eval_folder_for("/ws/data/synthped_occluded/query/0002_c1.jpg", folders) == "synthped@synthped_occluded"
    assert eval_folder_for("/ws/data/market/query/0002_c1.jpg", folders) is None


def test_gap_request_checks_projection_and_split():
    assert GapRequest((), "tsne").problems() == ["tick at least one run to compare"]
    assert any("split 'dev'" in p for p in GapRequest(("/r",), split="dev").problems())


def test_training_points_say_the_datasets_own_identity_not_the_training_label():
    """Training labels are 0..N-1; the hover names the person as the dataset does (0001_… is identity 1)."""
    result = SimpleNamespace(run="/ws/runs/scing", text_kind="prototype", pids=np.array([0, 0, 1]),
                             dataset_pids=np.array([1, 1, 12]),
                             image_xy=np.zeros((3, 2)), text_xy=np.ones((3, 2)),
                             paths=["/d/bounding_box_train/0001_c2s1_000152_00.jpg",
                                    "/d/bounding_box_train/0001_c3s1_000201_00.jpg", "/d/bounding_box_train/0012_c1.jpg"])
    view = GapView.from_result(result, "scing · SCING")
    assert "identity <b>1</b>" in view.describe(IMAGE, 0) and "identity <b>12</b>" in view.describe(IMAGE, 2)
    assert "paired with 2 image(s)" in view.describe(TEXT, 0)
