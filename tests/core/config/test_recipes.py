"""Which recipe a config follows (its losses and batching) and the schedule it replaces: the demo's
CLIP-ReID is CLIP-ReID's losses and batching on the demo's schedule, not its official recipe."""

from __future__ import annotations

from scing_core.config import resolve_config, to_dict
from scing_core.config.recipes import describe_recipe, followed_recipe


def recipe_of(preset: str, *overrides: str) -> str:
    return describe_recipe(to_dict(resolve_config(preset, list(overrides))))


def test_the_paper_presets_follow_their_recipes_whole():
    assert recipe_of("market1501/clipreid") == "CLIP-ReID's official recipe"
    assert recipe_of("market1501/scing") == "the SCING paper's recipe"
    assert recipe_of("occluded_duke/cocoop") == "the SCING paper's recipe"   # PDCA's weight is the method's own


def test_the_demo_clipreid_names_every_part_of_the_schedule_it_replaces():
    text = recipe_of("synthped_occluded/clipreid/demo")
    assert text.startswith("CLIP-ReID's official recipe for the losses and batching; not its schedule: ")
    for part in ("stage 1 lr 0.01 (official 0.00035)", "stage 1 scheduler constant (official cosine)",
                 "stage 1 warm-up epochs 0 (official 5)", "stage 2 lr 0.0002 (official 5e-06)",
                 "stage 2 warm-up epochs 0 (official 10)", "stage 2 bias lr factor 1 (official 2)",
                 "8 identities per batch (official 16)"):
        assert part in text, part


def test_another_loss_is_neither_recipe():
    config = to_dict(resolve_config("market1501/clipreid", ["loss.label_smoothing=0.0"]))
    assert followed_recipe(config) is None
    assert describe_recipe(config).startswith("the project's own mix")
    assert followed_recipe(to_dict(resolve_config("market1501/clipreid", ["stage1.batching=pk"]))) is None
