"""Which training recipe a config follows, and where it departs from it.

The two recipes (``resources/configs/recipes/``): CLIP-ReID's official one (its code's losses,
batching and schedules) and the SCING paper's. A config *follows* a recipe when its losses and its
batching are the recipe's; its schedule (epochs, learning rates, scheduler, warm-up, bias factor) and
batch size may still be replaced, as the demo's short CPU budget does. :func:`describe_recipe` says
so in one line, e.g. for the demo's CLIP-ReID run::

    CLIP-ReID's official recipe for the losses and batching; the schedule is not its: stage 1 lr 0.01
    (official 0.00035), scheduler constant (cosine), ...

Shown by the demo report, ``scing train --print-config``'s reader and the studio (run_started's ``recipe``).
"""

from __future__ import annotations

from functools import lru_cache

from scing_core.config.io import from_dict, presets_root, read_yaml, to_dict

RECIPES = {"clipreid": "CLIP-ReID's official recipe", "scing": "the SCING paper's recipe"}
WHOSE = {"clipreid": "official", "scing": "paper"}
BATCHING = ("stage1.batching", "stage2.batching", "data.instances_per_id")
SCHEDULE = ("epochs", "lr", "scheduler", "milestones", "warmup_epochs", "bias_lr_factor")
LABELS = {"lr": "lr", "scheduler": "scheduler", "milestones": "milestones", "warmup_epochs": "warm-up epochs",
          "bias_lr_factor": "bias lr factor", "epochs": "epochs"}


@lru_cache(maxsize=None)
def followed_keys(name: str) -> tuple[str, ...]:
    """The keys a config must share with recipe ``name`` to follow it: every loss key the recipe sets
    (a method's own, e.g. PDCA's ``lambda_con``, stays the method's) and the batching."""
    loss = read_yaml(presets_root() / "recipes" / f"{name}.yaml").get("loss", {})
    return (*(f"loss.{key}" for key in loss), *BATCHING)


@lru_cache(maxsize=None)
def recipe_values(name: str) -> dict:
    """The resolved config (defaults + ``recipes/<name>.yaml``) of recipe ``name``, as a dict."""
    return to_dict(from_dict(read_yaml(presets_root() / "recipes" / f"{name}.yaml")))


def _get(config: dict, dotted: str):
    value = config
    for part in dotted.split("."):
        value = value.get(part, {}) if isinstance(value, dict) else None
    return value


def followed_recipe(config: dict) -> str | None:
    """The recipe whose losses and batching ``config`` (a resolved config as a dict) has, or None."""
    for name in RECIPES:
        recipe = recipe_values(name)
        if all(_get(config, key) == _get(recipe, key) for key in followed_keys(name)):
            return name
    return None


def schedule_departures(config: dict, recipe: str) -> list[str]:
    """Where ``config``'s schedule and batch size differ from ``recipe``'s, e.g. "stage 1 lr 0.01 (official 0.00035)"."""
    wanted, whose = recipe_values(recipe), WHOSE[recipe]
    out = []
    for stage in ("stage1", "stage2"):
        for key in SCHEDULE:
            ours, theirs = _get(config, f"{stage}.{key}"), _get(wanted, f"{stage}.{key}")
            if ours != theirs:
                out.append(f"stage {stage[-1]} {LABELS[key]} {_text(ours)} ({whose} {_text(theirs)})")
    ours, theirs = _get(config, "data.ids_per_batch"), _get(wanted, "data.ids_per_batch")
    if ours != theirs:
        out.append(f"{ours} identities per batch ({whose} {theirs})")
    return out


def describe_recipe(config: dict) -> str:
    """One line: the recipe ``config`` follows and, if any, the schedule it replaces (see the module doc)."""
    recipe = followed_recipe(config)
    if recipe is None:
        return "the project's own mix (the losses or batching of neither CLIP-ReID's official recipe nor the paper's)"
    departures = schedule_departures(config, recipe)
    if not departures:
        return RECIPES[recipe]
    return f"{RECIPES[recipe]} for the losses and batching; not its schedule: {', '.join(departures)}"


def _text(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return "[" + ", ".join(_text(v) for v in value) + "]" if value else "none"
    return str(value)
