"""Atomic writes: whole file or nothing, usual permissions, no temporary files left behind."""

from __future__ import annotations

import os
import stat

import pytest

from scing_core.atomic import FILE_MODE, atomic_open, write_json_atomic, write_text_atomic


def test_replaces_the_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "sub" / "metrics.json"
    write_json_atomic(path, {"mAP": 0.5})
    write_json_atomic(path, {"mAP": 0.75})
    assert path.read_text() == '{\n  "mAP": 0.75\n}\n'
    assert sorted(p.name for p in path.parent.iterdir()) == ["metrics.json"]


def test_a_failed_write_keeps_the_previous_file(tmp_path):
    path = write_text_atomic(tmp_path / "report.md", "old")
    with pytest.raises(RuntimeError):
        with atomic_open(path, "w") as handle:
            handle.write("half of the new")
            raise RuntimeError("crash while writing")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]


def test_files_get_the_permissions_of_a_plain_open(tmp_path):
    path = write_text_atomic(tmp_path / "figure.txt", "x")
    assert stat.S_IMODE(os.stat(path).st_mode) == FILE_MODE
    assert FILE_MODE & 0o044  # readable by others under any usual umask (0o022 / 0o002)


def test_rejects_modes_that_do_not_write_a_whole_file(tmp_path):
    with pytest.raises(ValueError, match="mode"):
        with atomic_open(tmp_path / "x", "a"):
            pass
