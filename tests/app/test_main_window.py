"""The whole window: opens on a workspace, switches through every panel, offers the demo build
when the demo workspace is missing, and shows errors in the window."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.__main__ import build_parser, main
from app.services import core_client


def test_window_opens_on_a_workspace_and_visits_every_panel(open_window, tiny_workspace, qtbot):
    window = open_window(tiny_workspace)
    assert window.stack.currentWidget() is window.tabs
    assert sorted(row.name for row in window.training.runs.rows) == ["clipreid", "cocoop", "scing"]
    assert window.training.table.rowCount() == 3
    for index in range(window.tabs.count()):
        window.tabs.setCurrentIndex(index)
        qtbot.wait(20)
        assert window.tabs.currentWidget().isVisible()
    assert window.retrieval.run_combo.count() == 3       # every tiny run has eval artefacts
    assert window.saliency.runs.count() == 3 and len(window.gap.runs.checked_paths()) == 3
    window.close()
    assert not window.isVisible()


def test_opening_a_run_directory_opens_its_workspace_with_that_run_selected(open_window, tiny_workspace, qtbot):
    run = tiny_workspace / "runs" / "cocoop"
    window = open_window(run)
    assert window.workspace.path == tiny_workspace.resolve()
    assert window.training.runs.selected == run.resolve() and window.training.table.rowCount() == 3
    assert window.retrieval.current_run() == run.resolve()


def test_missing_demo_workspace_offers_the_demo_build(open_window, isolated_home):
    window = open_window(None)
    page = window.setup_page
    assert window.stack.currentWidget() is page
    assert page.build_button.isVisible() and page.build_button.isEnabled()
    assert "demo workspace has not been built" in page.headline.text()
    assert not page.quick.isChecked()   # the full demo by default: the one the report describes
    argv = core_client.demo_command(page.status.path, quick=page.quick.isChecked())
    assert argv[-2:] == ["--workspace", str(isolated_home / "demo")]
    page.quick.setChecked(True)
    assert core_client.demo_command(page.status.path, quick=page.quick.isChecked())[-1] == "--quick"


def test_demo_build_output_is_shown_live_and_the_workspace_opens_when_it_succeeds(
        open_window, isolated_home, tiny_runs, monkeypatch, qtbot):
    """The build runs as a separate process; here a stand-in command copies a tiny run into place."""
    source = Path(tiny_runs["scing"])
    script = ("import shutil, sys; print('building…', flush=True); "
              "shutil.copytree(sys.argv[1], sys.argv[2] + '/runs/scing'); print('done')")
    monkeypatch.setattr(core_client, "demo_command",
                        lambda workspace, quick: [sys.executable, "-c", script, str(source), str(workspace)])
    window = open_window(None)
    process = window.setup_page.build_demo()
    with qtbot.waitSignal(process.finished, timeout=30000):
        pass
    assert "building…" in window.setup_page.log.toPlainText()
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.tabs, timeout=20000)
    assert [row.name for row in window.training.runs.rows] == ["scing"]


def test_a_missing_folder_can_become_an_empty_workspace(open_window, tmp_path, qtbot):
    window = open_window(tmp_path / "new-ws")
    assert window.stack.currentWidget() is window.setup_page and window.setup_page.create_button.isVisible()
    window.setup_page.create_button.click()
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.tabs, timeout=20000)
    assert (tmp_path / "new-ws" / "runs").is_dir()
    assert window.training.empty_label.isVisible() or "No runs yet" in window.training.empty_label.text()


def test_panel_errors_reach_the_status_bar_and_the_inline_banner(open_window, tiny_workspace):
    window = open_window(tiny_workspace)
    window.saliency.images.clear()
    assert window.saliency.compute() is False
    assert "add at least one image" in window.saliency.banner.message
    assert "add at least one image" in window.statusBar().currentMessage()


def test_command_line_options():
    args = build_parser().parse_args(["--workspace", "/ws", "--screenshot", "/out"])
    assert (args.workspace, args.screenshot, args.size) == ("/ws", "/out", "1440x900")


def test_without_a_display_the_studio_says_so_in_one_line(monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    for name in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SystemExit, match="no display found.*--screenshot DIR"):
        main(["--workspace", "/nowhere"])


@pytest.mark.slow
def test_screenshot_mode_writes_one_png_per_panel_and_quits(tiny_workspace, tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-m", "app", "--workspace", str(tiny_workspace), "--screenshot",
                           str(tmp_path), "--size", "1200x800", "--no-umap-warm-up"],
                          cwd=Path(__file__).resolve().parents[2], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    names = sorted(p.name for p in tmp_path.glob("*.png"))
    assert names == ["studio-dataset.png", "studio-gap.png", "studio-retrieval.png", "studio-saliency.png",
                     "studio-training.png"]
    from PySide6.QtGui import QImage

    assert all(QImage(str(tmp_path / name)).width() == 1200 for name in names)


def test_every_registered_panel_follows_the_protocol_the_window_relies_on(qtbot):
    from app.panels.registry import PANEL_PROTOCOL, PANELS

    assert len({spec.name for spec in PANELS}) == len(PANELS)
    for spec in PANELS:
        panel = spec.factory()
        qtbot.addWidget(panel)
        missing = [name for name in PANEL_PROTOCOL if not hasattr(panel, name)]
        assert not missing, f"{type(panel).__name__} lacks {missing} (app/panels/registry.py)"
        panel.workers.wait(10000)


def test_the_window_finds_optional_panel_members_by_their_registered_names_only(qtbot):
    from app.panels.registry import PANEL_OPTIONAL, optional_members
    from app.panels.training_panel import TrainingPanel

    panel = TrainingPanel()
    qtbot.addWidget(panel)
    assert all(optional_members([panel], name) == [panel] for name in PANEL_OPTIONAL)
    with pytest.raises(ValueError, match="runsChanged"):
        optional_members([panel], "refresh_everything")
    panel.shutdown()
    panel.workers.wait(10000)
