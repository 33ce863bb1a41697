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
