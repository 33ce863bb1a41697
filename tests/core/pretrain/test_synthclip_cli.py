"""`scing synthclip` argument handling: documented help, one-line errors before any work."""

from __future__ import annotations

import pytest

from scing_core.cli import main as scing
from scing_core.cli.synthclip import main as synthclip_main


def test_help_documents_every_option(capsys):
    with pytest.raises(SystemExit) as info:
        synthclip_main(["--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    for option in ("--out", "--epochs", "--ids", "--seed", "--data", "--quick", "--plain"):
        assert option in text
    assert "model.pretrained=OUT" in text


@pytest.mark.parametrize(("argv", "message"), [
    (["--epochs", "0"], "epochs=0"),
    (["--ids", "3"], "ids=3"),
    (["--seed", "-1"], "seed=-1"),
])
def test_bad_numbers_are_one_line_errors(tmp_path, capsys, argv, message):
    assert scing(["synthclip", "--out", str(tmp_path / "m.pt"), *argv]) == 2
    assert message in capsys.readouterr().err
    assert not list(tmp_path.iterdir())  # refused before generating anything


def test_output_folder_or_other_suffix_is_a_one_line_error(tmp_path, capsys):
    assert scing(["synthclip", "--out", str(tmp_path), "--quick"]) == 2
    assert "is a folder" in capsys.readouterr().err
    assert scing(["synthclip", "--out", str(tmp_path / "weights.txt"), "--quick"]) == 2
    assert "should end in .pt" in capsys.readouterr().err
