"""The two common extensions follow their recipes in docs/architecture.md: a dataset is one module in
``scing_core/data/datasets/`` plus its preset YAML, a method one module in ``scing_core/models/prompts/``
plus its preset YAML. Each test writes exactly those files for a throw-away extension (the modules into a
temporary folder on the package's search path, the presets into a temporary copy of the presets), lets
the package find them the way it finds its own, and checks that the extension is listed and usable;
everything is undone afterwards."""

from __future__ import annotations

import shutil
import sys
import textwrap
from pathlib import Path

import pytest
import torch

import scing_core.data.datasets as datasets_package
import scing_core.models.prompts as prompts_package
from scing_core import api
from scing_core.cli import main as scing
from scing_core.config import list_presets, resolve_config
from scing_core.config.io import presets_root
from scing_core.data import list_datasets, load_dataset
from scing_core.data.datasets import DATASETS
from scing_core.models import build_model, list_methods
from scing_core.models.prompts import METHODS, method_title
from scing_core.registry import import_modules

from tests.core.data.test_datasets import market_tree, write_images

DATASET, METHOD = "recipe_campus", "recipe_tokens"

# Recipe "Adding a dataset", step 1: scing_core/data/datasets/<name>.py
DATASET_MODULE = '''
"""RecipeCampus: a throw-away benchmark in the Market-1501 layout, 3 cameras."""

from scing_core.data.datasets import register_dataset
from scing_core.data.datasets.market_layout import load_market_layout
from scing_core.data.types import ReIDDataset

FOLDERS = ("RecipeCampus", "recipe_campus")


@register_dataset("recipe_campus")
def load_recipe_campus(root: str) -> ReIDDataset:
    """RecipeCampus: RecipeCampus/{bounding_box_train,query,bounding_box_test}/<pid>_c<cam>*.jpg; 6 cameras."""
    return load_market_layout(root, "recipe_campus", FOLDERS, num_cams=6)
'''

# Recipe "Adding a method", step 1: scing_core/models/prompts/<name>.py
METHOD_MODULE = '''
"""Recipe tokens: CLIP-ReID's identity tokens, each scaled by a learnable factor (a throw-away method)."""

import torch
from torch import nn

from scing_core.models.prompts.base import PromptLearner, template_options
from scing_core.models.prompts.methods import register_method


class ScaledTokensPromptLearner(PromptLearner):
    conditional = False
    cond_source = None

    def __init__(self, num_classes, token_embedding, **template):
        super().__init__(num_classes, token_embedding, **template)
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, labels, cond=None):
        return self.assemble(self.class_tokens(labels) * self.scale)


@register_method("recipe_tokens", title="Recipe Tokens")
def build_recipe_tokens(model_cfg, num_classes, backbone):
    return ScaledTokensPromptLearner(num_classes, backbone.clip.token_embedding, **template_options(model_cfg, backbone))
'''

# step 2 of each recipe: the preset YAMLs (the method's as CoCoOp's: the SCING recipe, its own name and method)
DATASET_PRESET = "data: {dataset: recipe_campus, root: data}\n"


def _add_module(package, name: str, source: str, folder: Path, monkeypatch) -> None:
    """Put ``source`` as module ``name`` on ``package``'s search path and let the package discover it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    monkeypatch.setattr(package, "__path__", [*package.__path__, str(folder)])
    import_modules(package.__name__, package.__path__)   # what the package runs when it is imported


def _remove_module(package, registry, name: str) -> None:
    registry.unregister(name)
    sys.modules.pop(f"{package.__name__}.{name}", None)
    if hasattr(package, name):
        delattr(package, name)


@pytest.fixture
def presets(tmp_path, monkeypatch) -> Path:
    """A copy of the shipped presets (SCING_RESOURCES) that the recipes add their YAMLs to."""
    copy = tmp_path / "resources" / "configs"
    shutil.copytree(presets_root(), copy)
    monkeypatch.setenv("SCING_RESOURCES", str(copy.parent))
    return copy


@pytest.fixture
def recipe_dataset(tmp_path, monkeypatch, presets):
    _add_module(datasets_package, DATASET, DATASET_MODULE, tmp_path / "dataset_module", monkeypatch)
    (presets / "datasets" / f"{DATASET}.yaml").write_text(DATASET_PRESET, encoding="utf-8")
    yield DATASET
    _remove_module(datasets_package, DATASETS, DATASET)


@pytest.fixture
def recipe_method(tmp_path, monkeypatch, presets):
    _add_module(prompts_package, METHOD, METHOD_MODULE, tmp_path / "method_module", monkeypatch)
    preset = (presets / "methods" / "cocoop.yaml").read_text(encoding="utf-8").replace("cocoop", METHOD)
    (presets / "methods" / f"{METHOD}.yaml").write_text(preset, encoding="utf-8")
    yield METHOD
    _remove_module(prompts_package, METHODS, METHOD)


def test_a_dataset_is_a_module_and_a_preset_and_is_listed_and_loads(recipe_dataset, tmp_path, capsys):
    assert recipe_dataset in list_datasets() and recipe_dataset in api.list_datasets()
    assert scing(["data", "list"]) == 0
    assert recipe_dataset in capsys.readouterr().out.split()
    assert f"{recipe_dataset}/scing" in list_presets()
    assert resolve_config(f"{recipe_dataset}/scing").data.dataset == recipe_dataset

    market_tree(tmp_path / "data" / "RecipeCampus", files=write_images)
    dataset = load_dataset(recipe_dataset, tmp_path / "data")   # the parent folder, as for every benchmark
    assert (len(dataset.train), len(dataset.query), dataset.num_train_pids, dataset.num_cams) == (4, 2, 3, 6)
    assert scing(["data", "info", recipe_dataset, "--data-root", str(tmp_path / "data")]) == 0
    assert "train ids: 3" in capsys.readouterr().out


def test_a_method_is_a_module_and_a_preset_and_is_listed_and_builds(recipe_method):
    assert recipe_method in list_methods()
    assert method_title(recipe_method) == api.method_title(recipe_method) == "Recipe Tokens"
    assert f"market1501/{recipe_method}" in list_presets()
    cfg = resolve_config(f"market1501/{recipe_method}",
                         ["model.arch=scing-tiny", "model.pretrained=", "model.sie=false", "data.image_size=[64,32]"])
    assert cfg.model.method == recipe_method

    torch.manual_seed(0)
    model = build_model(cfg, num_classes=3, num_cams=2)
    assert type(model.prompt_learner).__name__ == "ScaledTokensPromptLearner"
    assert "prompt_learner.scale" in {name for name, _ in model.named_parameters()}
    text = model.encode_text(torch.tensor([0, 2]))
    assert text.shape[0] == 2 and torch.isfinite(text).all()


def test_both_recipes_together_make_a_preset_of_the_new_dataset_and_the_new_method(recipe_dataset, recipe_method):
    assert f"{recipe_dataset}/{recipe_method}" in list_presets()
    cfg = resolve_config(f"{recipe_dataset}/{recipe_method}")
    assert (cfg.data.dataset, cfg.model.method, cfg.name) == (recipe_dataset, recipe_method, recipe_method)


def test_the_throw_away_extensions_are_gone_afterwards():
    assert DATASET not in list_datasets() and METHOD not in list_methods()
    assert f"{DATASET}/scing" not in list_presets()
    assert f"{datasets_package.__name__}.{DATASET}" not in sys.modules
    assert f"{prompts_package.__name__}.{METHOD}" not in sys.modules and not hasattr(prompts_package, METHOD)
