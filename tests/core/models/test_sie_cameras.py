"""SIE only on real cameras: P-DukeMTMC's and Occluded-REID's camera ids are image kinds (occluded 0,
whole body 1), so a run there builds no SIE; a test set whose cameras the run never saw (another
dataset's, or no real ones) is encoded with the mean of the learned camera embeddings."""

from __future__ import annotations

import torch

from scing_core.config import resolve_config
from scing_core.data import load_dataset
from scing_core.data.configured import training_cameras
from scing_core.engine.run import build_context
from scing_core.models.clip_backbone import create_backbone
from scing_core.runs.layout import RunDir

from tests.core.data.test_dataset_occluded import occluded_reid_tree, p_duke_tree
from tests.support import TINY_MODEL


def test_p_dukemtmc_and_occluded_reid_have_no_real_cameras(tmp_path, tiny_synthped):
    p_duke = load_dataset("p_dukemtmc", p_duke_tree(tmp_path / "P-DukeMTMC-reID"))
    occluded_reid = load_dataset("occluded_reid", occluded_reid_tree(tmp_path / "Occluded_REID"))
    synthped = load_dataset("synthped", tiny_synthped)
    assert (p_duke.real_cameras, p_duke.sie_cameras) == (False, 0)
    assert (occluded_reid.real_cameras, occluded_reid.sie_cameras) == (False, 0)
    assert synthped.real_cameras and synthped.sie_cameras == synthped.num_cams > 1


def test_a_p_dukemtmc_run_with_sie_builds_no_camera_embeddings(tmp_path):
    root = p_duke_tree(tmp_path / "P-DukeMTMC-reID")
    cfg = resolve_config("p_dukemtmc/scing", [*TINY_MODEL, "model.stride=16", f"data.root={root}",
                                              "data.ids_per_batch=2", "data.instances_per_id=1"])
    assert cfg.model.sie   # the preset keeps SIE for datasets whose camera ids are cameras
    run = RunDir.at(tmp_path / "run")
    run.prepare(False)
    ctx = build_context(cfg, run)
    assert ctx.model.backbone.sie_cameras == 0 and ctx.model.backbone.sie_embed is None


def test_test_sets_from_other_cameras_are_encoded_with_unknown_cameras(tmp_path, tiny_synthped):
    market = resolve_config("occluded_reid/scing")   # trains on Market-1501, tests on Occluded-REID
    occluded_reid = load_dataset("occluded_reid", occluded_reid_tree(tmp_path / "Occluded_REID"))
    synthped = load_dataset("synthped", tiny_synthped)
    assert not training_cameras(market, occluded_reid)
    own = resolve_config("synthped/scing")
    assert training_cameras(own, synthped)
    assert not training_cameras(resolve_config("market1501/scing"), synthped)   # another dataset's cameras


def test_an_unknown_camera_gets_the_mean_camera_embedding():
    torch.manual_seed(0)
    backbone = create_backbone("scing-tiny", image_size=(64, 32), stride=16, sie_cameras=3).eval()
    images = torch.randn(2, 3, 64, 32)
    unknown = backbone.forward_features(images, torch.tensor([-1, 2]))
    with torch.no_grad():
        mean = backbone.sie_embed.mean(0)
        backbone.sie_embed[0] = mean
    expected = backbone.forward_features(images, torch.tensor([0, 2]))
    torch.testing.assert_close(unknown.proj, expected.proj)
    torch.testing.assert_close(unknown.pre_proj, expected.pre_proj)
