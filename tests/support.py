"""Helpers shared by tests: tiny SynthPed and tiny trained runs (CPU, seconds)."""

from __future__ import annotations

from pathlib import Path


def quick_overrides(root, *extra) -> list[str]:
    """The `quick` variant trimmed further for the test suite (seconds per run)."""
    return [f"data.root={root}", "stage1.epochs=2", "stage2.epochs=3", "eval_every=2",
            "data.ids_per_batch=4", "data.instances_per_id=4", *extra]


def train_tiny_run(method: str, root, run_dir, *extra) -> Path:
    """Train ``method`` with the tiny quick config into ``run_dir`` (both stages + final eval)."""
    from scing_core.cli import main as scing

    code = scing(["train", "--config", f"synthped/{method}/quick", "--run-dir", str(run_dir), "--plain",
                  *quick_overrides(root, *extra)])
    assert code == 0, f"tiny {method} training failed"
    return Path(run_dir)


TINY_MODEL = ["model.arch=scing-tiny", "model.pretrained=", "model.stride=16", "data.image_size=[64,32]",
              "data.num_workers=0", "data.test_batch_size=64"]


def tiny_context(preset: str, root, run_dir, *overrides):
    """A training context (tiny model, ``root``'s SynthPed) for ``preset``: the paper presets'
    recipes on the tiny architecture, to test what a stage does without training a whole run."""
    from scing_core.config import resolve_config
    from scing_core.engine.run import build_context
    from scing_core.runs.layout import RunDir

    cfg = resolve_config(preset, [*TINY_MODEL, "data.dataset=synthped", f"data.root={root}", "data.test_datasets=[]",
                                  "data.ids_per_batch=4", "data.instances_per_id=4", *overrides])
    run = RunDir.at(run_dir)
    run.prepare(False)
    return build_context(cfg, run)


def copy_run_record(source, target) -> Path:
    """A run directory with just what the Training panel reads (config, events, metrics)."""
    import shutil

    source, target = Path(source), Path(target)
    target.mkdir(parents=True)
    for name in ("config.yaml", "events.jsonl", "metrics.json"):
        if (source / name).exists():
            shutil.copy(source / name, target / name)
    return target


def write_plan(path, root, rows=("clipreid", "scing"), seeds: int = 2):
    """A tiny study plan (quick presets, 2 stage-2 epochs) with ``rows`` x ``seeds``."""
    import json

    overrides = [*quick_overrides(root), "stage2.epochs=2", "eval_every=100"]
    lines = ["title: tiny study", f"seeds: {seeds}", f"reference: {rows[0]}", f"overrides: {json.dumps(overrides)}", "rows:"]
    lines += [f"  - {{name: {m}, title: {m.upper()}, preset: synthped/{m}/quick}}" for m in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def strict_json(text: str):
    """``text`` parsed as strict JSON: ``NaN`` / ``Infinity`` (Python's json extensions) fail, as in jq."""
    import json

    def refuse(constant):
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def compute_gap_of_scing(window, qtbot, split: str = "test"):
    """Compute the Modality-gap tab for the tiny workspace's scing run (4 identities, PCA, ``split``) and wait
    until its first image point is on screen; returns (the panel, scing's GapResult)."""
    from pathlib import Path as _Path

    panel = window.gap
    window.tabs.setCurrentWidget(panel)
    panel.runs.set_checked([p for p in panel.runs.checked_paths() if _Path(p).name == "scing"])
    panel.ids.setValue(4)
    panel.projection.setCurrentIndex(panel.projection.findData("pca"))
    panel.split.setCurrentIndex(panel.split.findData(split))
    with qtbot.waitSignal(panel.computed, timeout=180000) as shown:
        assert panel.compute()
    plot = panel.plots.plots[0]
    qtbot.waitUntil(lambda: plot.viewport().rect().contains(panel.plots.widget_pos_of(0, "image", 0)), timeout=60000)
    return panel, shown.args[0][0]

