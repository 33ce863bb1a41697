"""Architecture rules (docs/design.md, Boundaries): the layering contracts (import-linter) and small modules."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]



def test_the_layering_contracts_hold():
    """pyproject.toml's [tool.importlinter] contracts (the core's floors, the headless core, the studio's
    floors, the studio through scing_core.api only), checked by import-linter as `make test` does."""
    result = subprocess.run([str(Path(sys.executable).with_name("lint-imports"))], cwd=REPO, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout and result.stdout.count(" KEPT") >= 6


MAX_MODULE_LINES = 400   # docs/design.md: modules small; split by responsibility before one grows past this


def test_no_module_of_the_core_the_app_or_the_benchmarks_grows_past_400_lines():
    long = [f"{path.relative_to(REPO)}: {n} lines"
            for folder in ("scing_core", "app", "benchmarks") for path in sorted((REPO / folder).rglob("*.py"))
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES]
    assert not long, "split these modules by responsibility:\n" + "\n".join(long)
