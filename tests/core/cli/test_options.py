"""Options the subcommands share are defined once: --device is checked the same way everywhere, and
the dataset folder is --data-root with --root kept as an alias."""

from __future__ import annotations

import pytest

from scing_core.cli import main as scing
from scing_core.cli import available_subcommands

from tests.core.data.test_datasets import market_tree, write_images


@pytest.mark.parametrize("flag", ["--data-root", "--root"])
def test_dataset_folder_is_data_root_with_root_as_an_alias(tmp_path, capsys, flag):
    market_tree(tmp_path, files=write_images)
    assert scing(["data", "info", "market1501", flag, str(tmp_path)]) == 0
    assert "train" in capsys.readouterr().out


@pytest.mark.parametrize("command", [["eval", "--run-dir", "X"], ["gap", "--run-dir", "X", "--out", "f.png"],
                                     ["robustness", "--run-dir", "X", "--out", "f.png"], ["efficiency"],
                                     ["extract", "--checkpoint", "c.pt", "--images", "d", "--out", "f.npz"],
                                     ["cam", "--run-dir", "X", "--image", "i.png", "--out", "f.png"],
                                     ["study", "--plan", "study/table3-synthped", "--workspace", "W"]])
def test_a_device_that_cannot_exist_is_refused_by_every_command_that_takes_one(capsys, command):
    with pytest.raises(SystemExit) as exit_info:
        scing([*command, "--device", "nosuchdevice"])
    assert exit_info.value.code == 2
    assert "'nosuchdevice' is not a device; use auto | cpu | cuda | cuda:N" in capsys.readouterr().err


def test_every_device_option_comes_from_the_shared_definition():
    import inspect
    import importlib

    for name, (module, _) in available_subcommands().items():
        source = inspect.getsource(importlib.import_module(module))
        assert '"--device"' not in source, f"scing {name} defines --device itself; use cli.options.add_device"
        assert '"--root"' not in source, f"scing {name} defines --root itself; use cli.options.add_data_root"


def test_run_dir_checkpoint_json_and_verbose_come_from_the_shared_definitions():
    import importlib
    import inspect
    import re

    shared = re.compile(r'add_argument\(\s*"(--run-dir|--checkpoint|--json|-v|--verbose)"')
    for name, (module, _) in available_subcommands().items():
        found = shared.findall(inspect.getsource(importlib.import_module(module)))
        assert not found, f"scing {name} defines {', '.join(found)} itself; use the add_* of cli.options"


@pytest.mark.parametrize("command", ["cam", "gap", "robustness", "eval"])
def test_checkpoint_defaults_to_the_selected_one_and_run_dir_names_a_run(command):
    import importlib

    from scing_core.cli import SUBCOMMANDS

    parser = importlib.import_module(SUBCOMMANDS[command][0]).build_parser()
    actions = {a.dest: a for a in parser._actions}
    assert actions["checkpoint"].default == "selected" and "selected" in actions["checkpoint"].help
    assert actions["run_dir"].required and actions["json"].default is False and actions["verbose"].default is False
