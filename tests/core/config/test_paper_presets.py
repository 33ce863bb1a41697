"""The presets of the paper's Tables 1-3 resolve to the paper's and CLIP-ReID's published values, and
Table 3's rows differ in exactly one switch each (docs/fidelity.md lists every value's source)."""

from __future__ import annotations

import pytest
import yaml

from scing_core.config import resolve_config, to_dict
from scing_core.config.io import presets_root
from scing_core.errors import ConfigError

TABLE3_ROWS = ["occluded_duke/clipreid/ablation", "occluded_duke/cocoop", "occluded_duke/scing/pdca_off",
               "occluded_duke/scing"]
# `name` is a free-form run label, not a switch of the recipe
LABELS = {"name"}


def flat(cfg) -> dict:
    out = {}

    def walk(node, prefix):
        for key, value in node.items():
            if isinstance(value, dict):
                walk(value, f"{prefix}{key}.")
            else:
                out[prefix + key] = value

    walk(to_dict(cfg), "")
    return out


def differing_keys(a: str, b: str) -> set[str]:
    x, y = flat(resolve_config(a)), flat(resolve_config(b))
    return {key for key in x if x[key] != y[key]} - LABELS


@pytest.mark.parametrize("pair, switch", [
    ((TABLE3_ROWS[0], TABLE3_ROWS[1]), {"model.method"}),    # + metanet
    ((TABLE3_ROWS[1], TABLE3_ROWS[2]), {"model.method"}),    # metanet -> SVIP
    ((TABLE3_ROWS[2], TABLE3_ROWS[3]), {"loss.lambda_con"}),  # + PDCA
])
def test_neighbouring_table3_rows_differ_only_in_their_module_switch(pair, switch):
    assert differing_keys(*pair) == switch


def test_table3_rows_share_the_papers_recipe():
    for row in TABLE3_ROWS:
        cfg = resolve_config(row)
        assert cfg.data.dataset == "occluded_duke"
        assert (cfg.model.arch, cfg.model.pretrained, cfg.model.stride, cfg.model.sie) == ("ViT-B-16", "openai", 12, True)
        assert cfg.data.ids_per_batch * cfg.data.instances_per_id == 64 and cfg.data.instances_per_id == 4
        assert (cfg.data.flip_p, cfg.data.crop_p, cfg.data.erase_p) == (0.5, 0.5, 0.5)
        for stage in (cfg.stage1, cfg.stage2):
            assert (stage.optimizer, stage.lr, stage.weight_decay, stage.epochs) == ("adam", 5e-5, 5e-4, 120)
            assert (stage.scheduler, stage.milestones, stage.gamma, stage.batching) == ("multistep", (30, 50), 0.1, "pk")
        assert (cfg.loss.w_i2t_ce, cfg.loss.w_xm_triplet, cfg.loss.xm_margin, cfg.loss.w_id, cfg.loss.w_triplet) == \
            (1.0, 1.0, 0.2, 0.0, 0.0)
        assert cfg.model.test_feature == "proj" and cfg.model_selection == "final"
    assert resolve_config(TABLE3_ROWS[-1]).loss.lambda_con == 1.0
    assert [resolve_config(r).model.method for r in TABLE3_ROWS] == ["clipreid", "cocoop", "scing", "scing"]


def test_clipreid_preset_is_the_official_sie_olp_recipe():
    cfg = resolve_config("occluded_duke/clipreid")
    model, data, loss, s1, s2 = cfg.model, cfg.data, cfg.loss, cfg.stage1, cfg.stage2
    assert (model.stride, model.sie, model.sie_coef) == (12, True, 1.0)      # README: SIE_COE 1.0, STRIDE 12
    assert (model.test_feature, model.neck_feat) == ("concat", "before")
    assert (data.crop_p, data.pad, data.erase_p, data.erase_mode) == (1.0, 10, 0.5, "pixel")
    assert (loss.supcon_similarity, loss.temperature, loss.i2t_similarity, loss.label_smoothing) == ("dot", 1.0, "dot", 0.1)
    assert (loss.w_id, loss.w_triplet, loss.w_i2t_ce, loss.w_xm_triplet, loss.lambda_con) == (0.25, 1.0, 1.0, 0.0, 0.0)
    assert loss.triplet_features == ("penultimate", "pre_proj", "proj") and loss.triplet_margin == 0.3
    assert (s1.batching, s1.lr, s1.weight_decay, s1.scheduler, s1.warmup_epochs, s1.min_lr, s1.epochs) == \
        ("shuffle", 3.5e-4, 1e-4, "cosine", 5, 1e-6, 120)
    assert s1.lr * s1.warmup_factor == pytest.approx(1e-5)                 # WARMUP_LR_INIT
    assert (s2.lr, s2.weight_decay, s2.milestones, s2.warmup_epochs, s2.warmup_factor, s2.bias_lr_factor, s2.epochs) == \
        (5e-6, 1e-4, (30, 50), 10, 0.1, 2.0, 60)


def test_plain_variant_is_clipreids_shipped_config_without_sie_or_overlap():
    cfg = resolve_config("occluded_duke/clipreid/plain")
    assert (cfg.model.stride, cfg.model.sie) == (16, False)
    assert differing_keys("occluded_duke/clipreid", "occluded_duke/clipreid/plain") == {"model.stride", "model.sie"}


@pytest.mark.parametrize("dataset, trained_on, tested_on", [
    ("market1501", "market1501", ()), ("dukemtmc", "dukemtmc", ()), ("occluded_duke", "occluded_duke", ()),
    ("p_dukemtmc", "p_dukemtmc", ()), ("occluded_market", "occluded_market", ()),
    ("occluded_reid", "market1501", ("occluded_reid",)),
])
def test_tables_1_and_2_presets_train_every_method_on_the_row_dataset(dataset, trained_on, tested_on):
    """``sie: true`` asks for SIE where the training set's camera ids are cameras: P-DukeMTMC's are image
    kinds, so its runs build none (tests/core/models/test_sie_cameras.py); for SCING and CoCoOp SIE is the
    project's reading, and ``DATASET/METHOD/nosie`` the other one, one switch apart."""
    for method in ("clipreid", "cocoop", "scing"):
        cfg = resolve_config(f"{dataset}/{method}")
        assert cfg.data.dataset == trained_on and cfg.data.test_datasets == tested_on
        assert (cfg.model.stride, cfg.model.sie, cfg.data.image_size) == (12, True, (256, 128))
        assert differing_keys(f"{dataset}/{method}", f"{dataset}/{method}/nosie") == {"model.sie"}


def test_both_recipes_set_the_same_keys_so_a_recipe_variant_replaces_the_other_entirely():
    root = presets_root() / "recipes"
    keys = {}
    for name in ("scing", "clipreid"):
        data = yaml.safe_load((root / f"{name}.yaml").read_text())
        keys[name] = {f"{section}.{key}" if isinstance(values, dict) else section
                      for section, values in data.items() for key in (values if isinstance(values, dict) else [None])}
    assert keys["scing"] == keys["clipreid"]
    assert "loss.lambda_con" not in keys["scing"]  # PDCA is the method preset's switch


def test_every_preset_header_names_its_table_row_or_purpose():
    root = presets_root()
    for folder in ("recipes", "methods", "variants"):
        for path in (root / folder).glob("*.yaml"):
            first = path.read_text().splitlines()[0]
            assert first.startswith("# ") and len(first) > 20, path


@pytest.mark.parametrize("override, key", [
    ("model_selection=best", "model_selection"), ("stage1.batching=random", "stage1.batching"),
    ("stage2.batching=shuffle", "stage2.batching"), ("data.erase_mode=noise", "data.erase_mode"),
    ("loss.i2t_similarity=l2", "loss.i2t_similarity"), ("perturb.refresh_every=-1", "perturb.refresh_every"),
    ("model_selection=val", "data.val_ids"),
])
def test_recipe_switches_outside_their_choices_are_config_errors_naming_the_key(override, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        resolve_config("occluded_duke/scing", [override])
