"""`scing efficiency`: parameter deltas per method, identical inference cost, and the FLOP counts."""

from __future__ import annotations


import pytest

from scing_core.analysis.efficiency import measure_method
from scing_core.cli import run_main
from scing_core.cli.efficiency import main, parse_image_size
from scing_core.errors import InputError

from tests.support import strict_json

TINY = dict(arch="scing-tiny", num_classes=10, stride=12, image_size=(64, 32))


def tiny_inference_macs() -> tuple[int, int, int]:
    """Hand count for scing-tiny at 64x32, stride 12: a 5x2 grid, 11 tokens, width 64, 2 layers, E=32."""
    tokens, width, layers = 11, 64, 2
    conv = 10 * width * 3 * 16 * 16
    mlp = layers * tokens * 2 * width * 4 * width
    attention_projections = layers * tokens * 4 * width * width  # q, k, v and output projections
    attention_products = layers * 2 * tokens * tokens * width  # QK^T and AV
    final_projection = width * 32
    linear = conv + mlp + attention_projections + final_projection
    hooks_see = conv + mlp  # the only nn.Conv2d / nn.Linear modules that run
    return linear + attention_products, linear, hooks_see


def test_efficiency_json_has_method_deltas_and_identical_inference_cost(capsys):
    assert main(["--arch", "scing-tiny", "--image-size", "64x32", "--num-classes", "10", "--repeats", "1", "--json"]) == 0
    report = strict_json(capsys.readouterr().out)
    rows = {row["method"]: row for row in report["rows"]}
    assert list(rows) == ["clipreid", "cocoop", "scing"]
    base = rows["clipreid"]["train_params"]
    assert rows["cocoop"]["train_params"] - base == 32 * 2 + 2 + 2 * 64 + 64  # E -> E/16 -> d
    assert rows["scing"]["train_params"] - base == (64 * 4 + 4 + 4 * 64 + 64) + (64 * 64 + 64)  # MLP + gate
    complete, linear, hooks = tiny_inference_macs()
    for row in rows.values():
        assert row["inference_params"] == rows["clipreid"]["inference_params"]
        assert (row["macs_complete"], row["macs_linear"], row["flops_layer_hooks"]) == (complete, linear, 2 * hooks)
        assert row["latency_ms"] > 0
    assert report["settings"]["stride"] == 12


def test_efficiency_text_table_lists_each_method(capsys):
    assert main(["--arch", "scing-tiny", "--image-size", "64x32", "--repeats", "0", "--methods", "clipreid,scing"]) == 0
    out = capsys.readouterr().out
    assert "clipreid" in out and "scing" in out and "cocoop" not in out and "MMACs all" in out


def test_efficiency_bad_input_is_one_line_error(capsys):
    assert run_main(main, ["--image-size", "256"]) == 2
    assert "HEIGHTxWIDTH" in capsys.readouterr().err
    assert run_main(main, ["--arch", "scing-tiny", "--image-size", "64x32", "--methods", "coop"]) == 2
    assert "clipreid, cocoop, scing" in capsys.readouterr().err
    with pytest.raises(InputError):
        parse_image_size("0x128")


def test_training_parameters_include_text_encoder_and_inference_only_image_encoder():
    row = measure_method("clipreid", latency_repeats=0, **TINY)
    groups = row.param_groups
    assert row.train_params == sum(groups.values()) and row.inference_params == groups["image_encoder"]
    assert groups["prompt_learner"] == 10 * 4 * 64 and groups["text_encoder"] > 0


@pytest.mark.slow
def test_vit_b16_stride12_matches_paper_table4_structure():
    clipreid = measure_method("clipreid", arch="ViT-B-16", num_classes=702, stride=12, latency_repeats=0)
    scing = measure_method("scing", arch="ViT-B-16", num_classes=702, stride=12, latency_repeats=0)
    assert 0.35e6 <= scing.train_params - clipreid.train_params <= 0.50e6
    assert scing.macs_complete == clipreid.macs_complete > scing.macs_linear
    assert round(scing.flops_layer_hooks / 1e9, 2) == 24.14  # the paper's FLOPs figure
    assert round(clipreid.inference_params / 1e6, 2) == 86.20


def test_json_without_latency_is_strict_json_with_null(capsys):
    """--repeats 0 measures no latency: null in the JSON (NaN is not JSON; jq would reject the output)."""
    assert main(["--arch", "scing-tiny", "--image-size", "64x32", "--num-classes", "10", "--repeats", "0",
                 "--methods", "clipreid", "--json"]) == 0
    report = strict_json(capsys.readouterr().out)
    assert report["rows"][0]["latency_ms"] is None


def test_paper_note_prints_the_parameter_difference_and_what_makes_ours():
    from scing_core.cli.efficiency import _paper_note

    rows = [measure_method(m, latency_repeats=0, **TINY) for m in ("clipreid", "cocoop", "scing")]
    note = _paper_note(rows, "ViT-B-16", 12, (256, 128))
    delta = (rows[2].train_params - rows[0].train_params) / 1e6   # tiny: the MLP 64->4->64 and the gate 64->64
    assert f"scing - clipreid: {delta:+.3f} M here, +0.40 M in the paper" in note
    assert "condition_mlp 64->4->64" in note and "gate 64->64" in note and "the sizes we read" in note
    assert "the same setting" not in note
    assert "not comparable" in _paper_note(rows, "ViT-B-16", 16, (256, 128))
