"""The demo report: chance levels and honesty about missing parts (fast: tiny data, no training)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from scing_core.demo import DemoSettings, DemoWorkspace
from scing_core.demo.report import build_report, chance_metrics, run_metrics
from scing_core.demo.synthclip_section import synthclip_section


def _expected_random_r1(root) -> float:
    """Mean over queries with a valid match of (#matches / #kept gallery), Market-1501 protocol."""
    from scing_core.data import load_dataset

    data = load_dataset("synthped", str(root))
    shares = []
    for q in data.query:
        kept = [g for g in data.gallery if not (g.pid == q.pid and g.camid == q.camid)]
        hits = sum(g.pid == q.pid for g in kept)
        if hits:
            shares.append(hits / len(kept))
    return float(np.mean(shares))


def test_chance_r1_matches_the_random_ranking_expectation(tiny_synthped):
    chance = chance_metrics(tiny_synthped, draws=400, seed=1)
    assert chance["R1"] == pytest.approx(_expected_random_r1(tiny_synthped), abs=0.02)
    assert chance["R1"] < chance["mAP"] < 0.5  # AP also credits later matches
    assert chance_metrics(tiny_synthped, draws=5, seed=2) == chance_metrics(tiny_synthped, draws=5, seed=2)


def test_report_of_an_empty_workspace_names_what_is_missing(tmp_path):
    ws = DemoWorkspace.at(tmp_path)
    text = build_report(ws, DemoSettings.for_mode(quick=True, seed=4))
    assert "`scing demo --quick --seed 4`" in text
    assert "SynthCLIP metrics missing" in text
    for title in ("CLIP-ReID", "CoCoOp", "SCING"):
        assert f"| {title} | not trained yet |" in text
    assert "not built yet" in text and "![" not in text  # no figure is linked before it exists
    assert run_metrics(ws) == {"clipreid": {}, "cocoop": {}, "scing": {}}


def test_report_reads_each_runs_final_metrics_per_split(tmp_path):
    ws = DemoWorkspace.at(tmp_path)
    for i, method in enumerate(("clipreid", "cocoop", "scing")):
        final = {ws.eval_label("holistic"): {"mAP": 0.5 + i / 10, "R1": 0.6},
                 ws.eval_label("occluded"): {"mAP": 0.25, "R1": 0.3 + i / 10}}
        ws.run(method).mkdir(parents=True)
        (ws.run(method) / "metrics.json").write_text(json.dumps({"final": final}))
    text = build_report(ws, DemoSettings.for_mode(quick=True))
    assert "| SCING ([run](runs/scing)) | 70.0 | 60.0 | 25.0 | 50.0 |" in text
    assert "**holistic**: best mAP SCING (70.0). SCING beats CLIP-ReID here (+20.0 mAP points)." in text
    assert "**occluded**: best mAP CLIP-ReID (25.0). SCING does not beat CLIP-ReID here (+0.0 mAP points)." in text
    assert "SCING does not beat CLIP-ReID on the occluded split here. Possible explanations" in text


def test_paired_difference_uses_per_query_ap_of_both_runs(tmp_path):
    from scing_core.demo.report import paired_ap_difference

    ws = DemoWorkspace.at(tmp_path)
    per_method = {"scing": [0.5, 1.0, float("nan"), 0.25], "clipreid": [0.25, 0.5, float("nan"), 0.25]}
    for method, ap in per_method.items():
        folder = ws.run(method) / "eval" / ws.eval_label("occluded")
        folder.mkdir(parents=True)
        np.savez(folder / "per_query.npz", ap=np.array(ap), first_hit=np.zeros(4))
        (folder / "query.json").write_text(json.dumps({"paths": ["a", "b", "c", "d"]}))
    mean, se, n = paired_ap_difference(ws, "occluded")
    diffs = np.array([0.25, 0.5, 0.0])
    assert n == 3 and mean == pytest.approx(diffs.mean()) and se == pytest.approx(diffs.std(ddof=1) / np.sqrt(3))
    assert paired_ap_difference(ws, "holistic") is None


def test_synthclip_section_reports_retrieval_against_chance_and_probes():
    metrics = {
        "held_out": {"images": 200, "captions": 150, "ids": 100},
        "zero_shot": {"t2i_r1": 0.12, "t2i_r5": 0.3, "t2i_r10": 0.45, "t2i_chance_r1": 0.0067,
                      "i2t_r1": 0.1, "i2t_r5": 0.25, "i2t_r10": 0.4, "i2t_chance_r1": 0.0067},
        "attributes": {"k": 10, "probes": 1, "above_base_rate": 1, "mean_precision_at_k": 0.9, "mean_base_rate": 0.2,
                       "per_probe": {"red_top": {"prompt": "a person in a red top", "precision_at_k": 0.9,
                                                 "base_rate": 0.2, "positives": 40}}},
        "training": {"images": 400, "ids": 200, "epochs": 12, "train_seconds": 80.0},
    }
    text = synthclip_section(metrics)
    assert "| caption -> image | 12.0 | 30.0 | 45.0 | 0.7 |" in text
    assert '| "a person in a red top" | 90.0 | 20.0 | 4.5x |' in text
    assert "1 of 1 probes beat their base rate" in text
