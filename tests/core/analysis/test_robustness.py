"""Occlusion robustness: exact occluded areas, per-query determinism, fraction 0 = the run's own eval,
descriptors drift further with more occlusion, the figure and `scing robustness`."""

from __future__ import annotations

import json

import pytest
import torch

from scing_core.analysis.robustness import (
    erase_tensor,
    perturb_queries,
    robustness_curves,
    robustness_figure,
    run_labels,
)
from scing_core.errors import InputError

from tests.support import strict_json

HEIGHT, WIDTH = 64, 32


def flat_batch(size: int = 4, value: float = 5.0) -> torch.Tensor:
    """Normalised-looking images of one value outside the normalised range, so every damaged pixel shows."""
    return torch.full((size, 3, HEIGHT, WIDTH), value)


@pytest.mark.parametrize("fraction", [0.1, 0.3, 0.6])
def test_occluders_cover_exactly_the_requested_fraction_of_each_query(fraction):
    damaged = perturb_queries(flat_batch(), [0, 1, 2, 3], "occlude", fraction, seed=0)
    covered = (damaged != 5.0).any(dim=1).sum(dim=(1, 2))
    assert covered.tolist() == [round(fraction * HEIGHT * WIDTH)] * 4


@pytest.mark.parametrize("fraction", [0.1, 0.3, 0.6])
def test_erasing_sets_a_rectangle_of_the_requested_area_to_the_mean_colour(fraction):
    damaged = erase_tensor(flat_batch(), fraction, torch.Generator().manual_seed(1))
    for image in damaged:
        erased = (image == 0).all(dim=0)
        rows, cols = erased.any(dim=1).nonzero(), erased.any(dim=0).nonzero()
        assert erased.sum() == (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)  # one rectangle
        assert abs(int(erased.sum()) - fraction * HEIGHT * WIDTH) <= max(HEIGHT, WIDTH)  # rounding of one side


def test_fraction_zero_leaves_the_queries_untouched():
    images = torch.randn(2, 3, HEIGHT, WIDTH)
    assert torch.equal(perturb_queries(images, [0, 1], "erase", 0.0, seed=0), images)


def test_a_query_gets_the_same_damage_whatever_batch_it_is_in():
    images = torch.randn(4, 3, HEIGHT, WIDTH)
    for mode in ("occlude", "erase"):
        whole = perturb_queries(images, [10, 11, 12, 13], mode, 0.4, seed=5)
        alone = perturb_queries(images[2:3], [12], mode, 0.4, seed=5)
        assert torch.equal(whole[2:3], alone)
        other_seed = perturb_queries(images[2:3], [12], mode, 0.4, seed=6)
        assert not torch.equal(alone, other_seed)


def test_bad_fractions_and_modes_are_refused():
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        robustness_curves(["unused"], fractions=(0.0, 1.5))
    with pytest.raises(InputError, match="occlude, erase"):
        robustness_curves(["unused"], modes=("blur",))


def test_run_labels_are_unique_when_folder_names_clash(tmp_path):
    assert run_labels([tmp_path / "a" / "scing", tmp_path / "b" / "scing", tmp_path / "clipreid"]) == [
        "a/scing", "b/scing", "clipreid"]


# -- tiny runs -------------------------------------------------------------------------------------

def test_fraction_zero_reproduces_the_runs_own_eval(tiny_runs):
    run = tiny_runs["scing"]
    curves = robustness_curves([run], fractions=(0.0,), checkpoint="last", device="cpu")
    own = json.loads((run / "eval" / "synthped" / "metrics.json").read_text())
    for mode in ("occlude", "erase"):
        got = curves["runs"]["scing"]["curves"][mode]
        assert got["mAP"][0] == pytest.approx(own["mAP"], abs=1e-6)
        assert got["R1"][0] == pytest.approx(own["R1"], abs=1e-6)


def test_query_descriptors_drift_further_from_the_clean_ones_as_more_is_occluded(tiny_runs):
    # the tiny runs retrieve near chance level (mAP ~0.1 on 16 ids), too weak for an mAP drop to be
    # meaningful; the numbers of a properly trained run are in docs/analysis.md
    from scing_core.data.loaders import ConfiguredLoaders
    from scing_core.data.configured import load_configured_dataset
    from scing_core.runs.trained import load_run_model

    model, cfg, _ = load_run_model(tiny_runs["clipreid"], "last", "cpu")
    query = load_configured_dataset(cfg.data.dataset, cfg.data.root, cfg.data).query
    images, _, cams, indices = next(iter(ConfiguredLoaders(cfg).test(query)))
    with torch.inference_mode():
        clean = torch.nn.functional.normalize(model(images, cams), dim=-1)
        for mode in ("occlude", "erase"):
            drift = []
            for fraction in (0.2, 0.6):
                damaged = model(perturb_queries(images, indices.tolist(), mode, fraction, seed=0), cams)
                drift.append(float(1 - (clean * torch.nn.functional.normalize(damaged, dim=-1)).sum(dim=-1).mean()))
            assert 0.0 < drift[0] < drift[1], (mode, drift)


def test_curves_are_deterministic_given_the_seed(tiny_runs):
    kwargs = dict(fractions=(0.3,), modes=("occlude", "erase"), device="cpu")
    first = robustness_curves([tiny_runs["cocoop"]], seed=3, **kwargs)
    second = robustness_curves([tiny_runs["cocoop"]], seed=3, **kwargs)
    assert first == second


def test_robustness_figure_writes_png_and_pdf(tmp_path):
    curves = {"fractions": [0.0, 0.3, 0.6], "modes": ["occlude", "erase"], "seed": 0, "checkpoint": "best",
              "runs": {name: {"method": name, "curves": {mode: {"mAP": [0.5 - k, 0.3 - k, 0.1], "R1": [0.6, 0.4 - k, 0.2]}
                                                           for mode in ("occlude", "erase")}}
                       for k, name in ((0.0, "clipreid"), (0.05, "scing"))}}
    png = robustness_figure(curves, tmp_path / "robustness.png")
    assert png.stat().st_size > 0 and png.with_suffix(".pdf").stat().st_size > 0
    with pytest.raises(InputError, match="robustness_curves"):
        robustness_figure({"runs": {}}, tmp_path / "empty.png")


def test_robustness_command_prints_json_curves(tiny_runs, tmp_path, capsys):
    from scing_core.cli import main as scing

    out = tmp_path / "robustness.png"
    code = scing(["robustness", "--run-dir", str(tiny_runs["clipreid"]), "--run-dir", str(tiny_runs["scing"]),
                  "--fractions", "0,0.6", "--device", "cpu", "--out", str(out), "--json"])
    assert code == 0
    curves = strict_json(capsys.readouterr().out)
    assert curves["fractions"] == [0.0, 0.6] and curves["modes"] == ["occlude", "erase"]
    for run in curves["runs"].values():
        for mode in ("occlude", "erase"):
            assert len(run["curves"][mode]["mAP"]) == 2 and all(0.0 <= v <= 1.0 for v in run["curves"][mode]["R1"])
    assert out.exists() and out.with_suffix(".pdf").exists()


def test_robustness_command_explains_a_malformed_fraction(tmp_path, capsys):
    from scing_core.cli import main as scing

    code = scing(["robustness", "--run-dir", str(tmp_path), "--fractions", "0,lots", "--out", str(tmp_path / "r.png")])
    assert code == 2
    assert "--fractions" in capsys.readouterr().err
