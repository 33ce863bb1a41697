"""Architecture rules (docs/design.md, Boundaries): the core never imports Qt or the app; the app
reaches the core only through scing_core.api (and the CLI entry point)."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FORBIDDEN_IN_CORE = ("PySide6", "PyQt5", "PyQt6", "pyqtgraph", "app", "shiboken6")



def imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [(node.lineno, node.module)]
            if node.module == "scing_core":
                found += [(node.lineno, f"scing_core.{alias.name}") for alias in node.names]
    return found


def test_core_never_imports_qt_or_app():
    offenders = []
    for path in sorted((REPO / "scing_core").rglob("*.py")):
        for line, module in imported_modules(path):
            if module.split(".")[0] in FORBIDDEN_IN_CORE:
                offenders.append(f"{path.relative_to(REPO)}:{line} imports {module}")
    assert not offenders, "scing_core must stay headless:\n" + "\n".join(offenders)


def test_app_reaches_core_only_through_api():
    offenders = []
    for path in sorted((REPO / "app").rglob("*.py")):
        for line, module in imported_modules(path):
            if module.startswith("scing_core") and not (
                module in ("scing_core.api", "scing_core.cli") or module.startswith(("scing_core.api.", "scing_core.cli."))
            ):
                if module != "scing_core":
                    offenders.append(f"{path.relative_to(REPO)}:{line} imports {module}")
    assert not offenders, "app must use scing_core.api only:\n" + "\n".join(offenders)


def test_import_scan_sees_violations(tmp_path):
    """The scanner itself must catch a forbidden import (a check that cannot fail is no check)."""
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nfrom PySide6.QtWidgets import QWidget\nfrom scing_core import engine\n")
    modules = [m for _, m in imported_modules(bad)]
    assert "PySide6.QtWidgets" in modules and "scing_core.engine" in modules


MAX_MODULE_LINES = 400   # docs/design.md: modules small; split by responsibility before one grows past this


def test_no_module_of_the_core_the_app_or_the_benchmarks_grows_past_400_lines():
    long = [f"{path.relative_to(REPO)}: {n} lines"
            for folder in ("scing_core", "app", "benchmarks") for path in sorted((REPO / folder).rglob("*.py"))
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES]
    assert not long, "split these modules by responsibility:\n" + "\n".join(long)


def test_the_engine_is_imported_only_by_training_entry_points():
    """Analysis, the API's run loading, runs/ and the app load finished runs through runs.TrainedRun."""
    offenders = []
    for folder in ("scing_core/analysis", "scing_core/runs", "scing_core/evaluation", "scing_core/data",
                   "scing_core/models", "scing_core/api.py", "app"):
        paths = [REPO / folder] if folder.endswith(".py") else sorted((REPO / folder).rglob("*.py"))
        for path in paths:
            offenders += [f"{path.relative_to(REPO)}:{line} imports {module}"
                          for line, module in imported_modules(path) if module.startswith("scing_core.engine")]
    assert not offenders, "\n".join(offenders)


def test_studies_build_on_the_pipeline_not_on_the_demo():
    offenders = [f"{path.relative_to(REPO)}:{line} imports {module}"
                 for path in sorted((REPO / "scing_core" / "study").rglob("*.py"))
                 for line, module in imported_modules(path) if module.startswith("scing_core.demo")]
    assert not offenders, "study/ uses scing_core.pipeline for steps, progress and data:\n" + "\n".join(offenders)
