"""Dataset tab: per-split counts and images per identity of a workspace's dataset, an identity's images
with occluded ones marked, loading in a worker, errors in place, and a new workspace clearing the view."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from scing_core import api


@pytest.fixture(scope="module")
def occluded_synthped(tmp_path_factory) -> Path:
    from scing_core.data.synthped import generate_synthped

    root = tmp_path_factory.mktemp("occluded") / "synthped_occluded"
    generate_synthped(root, ids=8, images_per_id=6, cams=3, size=(64, 32), seed=2, distractors=4, occluded=True)
    return root


@pytest.fixture
def data_workspace(tiny_synthped, tmp_path) -> Path:
    """A workspace whose data/ holds SynthPed (and a folder no loader recognises)."""
    shutil.copytree(tiny_synthped, tmp_path / "ws" / "data" / "synthped")
    (tmp_path / "ws" / "data" / "notes").mkdir()
    return tmp_path / "ws"


def _loaded(window, qtbot):
    panel = window.dataset
    qtbot.waitUntil(lambda: panel.state.summary is not None and not panel.workers.busy, timeout=30000)
    return panel


def test_the_workspace_dataset_opens_with_counts_per_split(open_window, data_workspace, qtbot):
    window = open_window(data_workspace)
    panel = _loaded(window, qtbot)
    window.tabs.setCurrentWidget(panel)
    assert panel.folder.count() == 1 and panel.loader.currentText() == "synthped"
    dataset = api.load_dataset("synthped", data_workspace / "data" / "synthped")
    table = [[panel.table.item(r, c).text() for c in range(panel.table.columnCount())] for r in range(3)]
    for row, (split, ids, images, cameras) in zip(table, dataset.summary()):
        ids -= split == "gallery" and any(s.pid == 0 for s in dataset.gallery)   # distractors are no identity
        assert row[0] == split and row[1] == str(ids) and row[2].startswith(str(images)) and row[3] == str(cameras)
    bars = panel.histograms.plots["train"].getPlotItem().items
    heights = [h for item in bars for h in item.opts["height"]]
    assert sum(heights) == dataset.num_train_pids   # every training identity in one bar


def test_an_identity_shows_all_its_images_and_marks_the_occluded_ones(open_window, tiny_workspace, occluded_synthped,
                                                                      qtbot):
    window = open_window(tiny_workspace)
    panel = window.dataset
    panel.load("synthped", occluded_synthped)
    panel = _loaded(window, qtbot)
    notes = api.image_annotations([s.path for s in api.load_dataset("synthped", occluded_synthped).query])
    assert notes and all(note["occlusion"] is not None for note in notes.values())   # every query is occluded
    panel.group.setCurrentText("query + gallery identities")
    key = panel.identities.item(0).data(Qt.ItemDataRole.UserRole)
    samples = panel.state.summary.samples_of(tuple(key))
    with qtbot.waitSignal(panel.samplesShown, timeout=20000):
        panel.show_identity(key)
    assert len(panel.grid.tiles) == len(samples)
    marked = [tile.property("occluded") for tile in panel.grid.tiles]
    assert marked == [sample.occluded for sample in samples] and any(marked)
    assert panel.table.item(1, 5).text() == f"{len(notes)} (100 %)"   # the query row's occluded column


def test_a_dataset_that_cannot_load_shows_its_error_in_place_of_the_data(open_window, data_workspace, tmp_path, qtbot):
    window = open_window(data_workspace)
    panel = _loaded(window, qtbot)
    with qtbot.waitSignal(panel.errorOccurred, timeout=30000) as error:
        panel.load("market1501", tmp_path / "no-such-dataset")
    assert "no-such-dataset" in error.args[0]
    assert panel.pages.currentWidget() is panel.message and "Cannot open market1501" in panel.message.text()
    assert panel.state.summary is None and panel.table.rowCount() == 0 and panel.identities.count() == 0


def test_a_new_workspace_clears_the_dataset_view(open_window, data_workspace, tiny_workspace, qtbot):
    window = open_window(data_workspace)
    panel = _loaded(window, qtbot)
    scans = window.workspace.scans_done
    window.open_workspace(tiny_workspace)   # no data/ folder
    qtbot.waitUntil(lambda: window.workspace.scans_done > scans, timeout=20000)
    assert panel.state.summary is None and panel.table.rowCount() == 0 and panel.folder.count() == 0
    assert panel.pages.currentWidget() is panel.message and panel.banner.message == ""


def test_the_dataset_view_follows_its_state_without_a_redraw_call(qtbot, tiny_synthped):
    from app.panels.dataset_panel import DatasetPanel
    from app.services import core_client

    panel = DatasetPanel()
    qtbot.addWidget(panel)
    state = panel.state
    ticket, name, root = state.load("synthped", tiny_synthped)
    assert panel.pages.currentWidget() is panel.message and panel.message.text().startswith("Loading synthped")
    assert panel.folder.currentText() == str(tiny_synthped)
    summary = core_client.load_dataset_summary(name, root)   # here, not in a worker: the state is what is tested
    with qtbot.waitSignal(panel.samplesShown, timeout=20000):   # the first identity's thumbnails load in a worker
        state.show_loaded(ticket, summary)
        assert panel.pages.currentIndex() == 0 and panel.table.rowCount() == 3
        assert panel.identities.count() == len(summary.identity_keys()) and panel.identities.currentRow() == 0
    assert len(panel.grid.tiles) == len(summary.samples_of(state.identity))
    state.set_group("train identities")
    assert panel.group.currentText() == "train identities"
    assert panel.identities.count() == len(summary.identity_keys("train"))
    state.pick_folder("/elsewhere/synthped_occluded")
    assert panel.folder.currentText() == "/elsewhere/synthped_occluded" and panel.loader.currentText() == "synthped"
    state.show_failure(ticket, name, root, "gone")
    assert "Cannot open synthped" in panel.message.text() and panel.banner.message.endswith("gone")
    qtbot.waitUntil(lambda: not panel.workers.busy, timeout=20000)
