import pytest

from scing_core.cli.train import main as train_main
from scing_core.config import list_presets, load_config, resolve_config, save_config, valid_keys
from scing_core.errors import ConfigError


def test_defaults_then_preset_then_overrides_take_precedence_in_that_order():
    cfg = resolve_config("occluded_duke/scing", ["stage1.epochs=7", "model.stride=16"])
    assert cfg.data.dataset == "occluded_duke"          # from the preset
    assert cfg.model.method == "scing" and cfg.model.n_cond == 2
    assert cfg.stage1.epochs == 7 and cfg.model.stride == 16  # overrides win
    assert cfg.stage2.epochs == 120                      # preset value kept
    assert cfg.data.ids_per_batch * cfg.data.instances_per_id == 64  # paper batch


def test_variants_stack_on_top_of_dataset_and_method():
    cfg = resolve_config("occluded_duke/scing/pdca_off/plain")
    assert cfg.loss.lambda_con == 0.0 and cfg.model.stride == 16 and not cfg.model.sie


def test_clipreid_preset_uses_clipreids_own_recipe():
    cfg = resolve_config("market1501/clipreid")
    assert cfg.stage1.lr == pytest.approx(3.5e-4) and cfg.stage1.scheduler == "cosine" and cfg.stage1.warmup_epochs == 5
    assert cfg.stage2.lr == pytest.approx(5e-6) and cfg.stage2.epochs == 60
    assert (cfg.loss.w_id, cfg.loss.w_triplet, cfg.loss.w_i2t_ce) == (0.25, 1.0, 1.0)


def test_occluded_reid_preset_trains_on_market_and_tests_on_occluded_reid():
    cfg = resolve_config("occluded_reid/scing")
    assert cfg.data.dataset == "market1501" and cfg.data.test_datasets == ("occluded_reid",)


def test_unknown_override_key_suggests_the_closest_valid_key():
    with pytest.raises(ConfigError, match="Did you mean 'stage1.epochs'"):
        resolve_config("synthped/scing", ["stage1.epoch=3"])


def test_exponent_floats_without_a_dot_are_numbers():
    cfg = resolve_config("synthped/scing", ["stage1.lr=1e-2"])
    assert cfg.stage1.lr == pytest.approx(0.01)


def test_override_with_wrong_type_names_the_key():
    with pytest.raises(ConfigError, match="stage1.epochs.*integer"):
        resolve_config("synthped/scing", ["stage1.epochs=many"])


def test_unknown_preset_part_lists_valid_choices():
    with pytest.raises(ConfigError, match="unknown method 'scnig'.*Did you mean 'scing'"):
        resolve_config("synthped/scnig")


def test_every_listed_preset_resolves():
    names = [n for n in list_presets() if not n.startswith("DATASET/")]
    assert len(names) == 9 * 3
    for name in names:
        resolve_config(name)


def test_saved_config_round_trips(tmp_path):
    cfg = resolve_config("synthped/cocoop/quick", ["seed=3"])
    save_config(cfg, tmp_path / "config.yaml")
    assert load_config(tmp_path / "config.yaml") == cfg


def test_yaml_base_composition_and_bad_yaml_error(tmp_path):
    (tmp_path / "base.yaml").write_text("model: {method: cocoop}\nstage1: {epochs: 3}\n")
    (tmp_path / "run.yaml").write_text("_base_: [base.yaml]\nstage1: {epochs: 5}\n")
    cfg = resolve_config(str(tmp_path / "run.yaml"))
    assert cfg.model.method == "cocoop" and cfg.stage1.epochs == 5
    (tmp_path / "bad.yaml").write_text("model: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        resolve_config(str(tmp_path / "bad.yaml"))


def test_print_config_shows_the_resolved_config(capsys):
    assert train_main(["--config", "synthped/scing/quick", "--print-config", "stage2.epochs=2"]) == 0
    out = capsys.readouterr().out
    assert "method: scing" in out and "epochs: 2" in out


def test_valid_keys_are_dotted_leaves():
    keys = valid_keys()
    assert "model.method" in keys and "loss.lambda_con" in keys and "data" not in keys


def test_missing_presets_folder_is_one_actionable_error(monkeypatch, tmp_path):
    monkeypatch.setenv("SCING_RESOURCES", str(tmp_path))
    with pytest.raises(ConfigError, match="config presets not found.*SCING_RESOURCES"):
        list_presets()
    with pytest.raises(ConfigError, match="config presets not found"):
        resolve_config("synthped/scing")


def test_resources_come_from_an_installed_copy_when_the_checkout_has_none(monkeypatch, tmp_path):
    from scing_core import resources

    installed = tmp_path / "share" / "scing-studio" / "resources"
    (installed / "configs" / "datasets").mkdir(parents=True)
    monkeypatch.delenv("SCING_RESOURCES", raising=False)
    monkeypatch.setattr(resources, "REPOSITORY_RESOURCES", tmp_path / "no-checkout" / "resources")
    monkeypatch.setattr(resources, "INSTALLED_RESOURCES", installed)
    assert resources.resources_dir() == installed


def test_yaml_boolean_words_are_the_words_for_string_keys():
    # YAML 1.1 reads `off` as False: amp=off must still mean "off" (it used to become 'False' and switch AMP on)
    assert resolve_config("synthped/scing", ["amp=off"]).amp == "off"
