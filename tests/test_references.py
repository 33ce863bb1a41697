"""The repository stands alone: every file a text of the repository names is in the repository
(nothing outside the repository's folder, no document of a workspace a clone does not have)."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TOP = ("docs", "scing_core", "app", "resources", "tests", "benchmarks", ".ci")
TEXTS = ("*.py", "*.md", "*.yaml", "*.toml", "*.qss", "Makefile", ".ci/run")
# a path of the repository: a top-level folder, then parts, ending in a file name with an extension;
# or a bare upper-case Markdown name (README.md); or anything that climbs out of the clone (../)
PATH = re.compile(r"(?<![\w/.~$-])((?:\.\./)+[\w./-]+|(?:%s)/[\w./-]*\w\.[A-Za-z]{1,5}|[A-Z][A-Z_]+\.md)\b"
                  % "|".join(re.escape(t) for t in TOP))
PLACEHOLDER = re.compile(r"[A-Z]{4,}|\.\.\.|[*<{]")   # NAME.yaml, DATASET/..., <run>/, *.json
EXAMPLES = ("tests/test_references.py", "tests/test_fidelity_doc.py")   # they name missing files on purpose


def texts():
    seen = set()
    for pattern in TEXTS:
        for path in REPO.glob(f"**/{pattern}") if "/" not in pattern else [REPO / pattern]:
            parts = path.relative_to(REPO).parts
            if (path.is_file() and not {".venv", ".git", "build", "dist"} & set(parts) and path not in seen
                    and "/".join(parts) not in EXAMPLES):
                seen.add(path)
                yield path


def missing_references(path: Path) -> list[str]:
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        for match in PATH.finditer(line):
            name = match.group(1).rstrip(".")
            if name.startswith("../"):
                target = (path.parent / name).resolve()
                if REPO not in target.parents:
                    out.append(f"{path.relative_to(REPO)}:{number}: {name} is outside the repository")
                elif not target.exists():
                    out.append(f"{path.relative_to(REPO)}:{number}: {name} does not exist")
                continue
            if PLACEHOLDER.search(name.rsplit("/", 1)[-1].rsplit(".", 1)[0]) and "/" in name or "<" in name:
                continue
            candidates = [REPO / name, REPO / "docs" / name, path.parent / name]
            if not any(c.exists() for c in candidates):
                out.append(f"{path.relative_to(REPO)}:{number}: {name} does not exist")
    return out


def test_every_file_a_text_names_is_in_the_repository():
    problems = [p for path in texts() for p in missing_references(path)]
    assert not problems, "references to files this repository does not have:\n" + "\n".join(problems)


def test_the_check_catches_what_a_clone_would_miss(tmp_path):
    probe = REPO / "docs" / "_probe_reference_check.md"
    probe.write_text("see ../../elsewhere/NOTES.md and HABITS.md, docs/nowhere.md, but docs/design.md is fine\n")
    try:
        found = missing_references(probe)
    finally:
        probe.unlink()
    assert [line.split(": ", 1)[1] for line in found] == [
        "../../elsewhere/NOTES.md is outside the repository", "HABITS.md does not exist", "docs/nowhere.md does not exist"]
