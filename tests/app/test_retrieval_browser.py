"""The retrieval browser as a user meets it: an unreadable eval replaces the previous run instead of
hiding behind it, camera numbers as in the file names, a title and header indicator that follow the
sort, the compared run's ranking under this one column for column, and gallery tiles that act."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from scing_core import api



def copy_runs(tiny_workspace: Path, dest: Path, names: dict[str, str]) -> Path:
    """A workspace under ``dest`` holding copies of tiny runs (without checkpoints): {new name: method}."""
    for name, method in names.items():
        shutil.copytree(tiny_workspace / "runs" / method, dest / "runs" / name,
                        ignore=shutil.ignore_patterns("checkpoints", "cache"))
    return dest


def _loaded(window, qtbot):
    window.tabs.setCurrentWidget(window.retrieval)
    panel = window.retrieval
    qtbot.waitUntil(lambda: panel.state is not None and panel.state.selected is not None, timeout=20000)
    return panel


def test_an_unreadable_eval_shows_its_error_in_place_of_the_previous_runs_data(open_window, tiny_workspace, tmp_path,
                                                                              qtbot, caplog, capfd):
    workspace = copy_runs(tiny_workspace, tmp_path, {"a-good": "scing", "b-other": "cocoop", "z-garbage": "clipreid"})
    for file in (workspace / "runs" / "z-garbage" / "eval").rglob("*"):
        if file.is_file():
            file.write_bytes(b"\xff\xfe\x00garbage\x9c")
    panel = _loaded(open_window(workspace), qtbot)
    assert panel.current_run().name == "a-good" and panel.strip.tiles and panel.model.rowCount()
    assert panel.compare_combo.count() > 1   # "—" and the other runs
    caplog.set_level(logging.INFO)
    assert panel.select_run(workspace / "runs" / "z-garbage")
    qtbot.waitUntil(lambda: "could not load" in panel.summary.text(), timeout=20000)
    assert panel.state is None and panel.model.rowCount() == 0
    assert panel.strip.tiles == [] and panel.matches.tiles == [] and panel.versus_strip.tiles == []
    assert panel.compare_combo.count() == 1   # only "—": the runs listed for a-good's eval are gone
    assert panel.cmc_plot.getPlotItem().listDataItems() == []
    assert not panel.send_button.isEnabled() and not panel.export_button.isEnabled()
    assert panel.pages.currentWidget() is panel.empty_state
    page = panel.empty_state.text().replace("\u200b", "")   # zero-width break points let a long path wrap
    assert "z-garbage" in page and "cannot read" in page
    assert "loading" not in panel.summary.text()
    assert "Traceback" not in caplog.text and "Traceback" not in capfd.readouterr().err
    panel.select_run(workspace / "runs" / "a-good")                   # and back: the good run shows again
    qtbot.waitUntil(lambda: panel.state is not None and panel.state.selected is not None, timeout=20000)
    assert panel.pages.currentWidget() is panel.splitter and panel.strip.tiles


def test_cameras_read_as_in_the_file_names_and_the_title_follows_the_sort(open_window, tiny_workspace, qtbot):
    panel = _loaded(open_window(tiny_workspace), qtbot)
    header = panel.table.horizontalHeader()
    for r, row in enumerate(panel.model.rows[:10]):
        shown = panel.model.data(panel.model.index(r, 3))
        assert shown == f"c{row.camid + 1}" and f"_{shown}s" in row.name        # e.g. 0002_c3s1_… -> c3
    hit = panel.state.hits(panel.state.selected, 1)[0]
    assert panel.strip.specs()[0].caption.endswith(f"c{hit.camid + 1}")
    assert f"_c{hit.camid + 1}s" in Path(hit.path).name
    assert "camera <b>c" in panel.query_info.text()
    assert header.isSortIndicatorShown()
    assert "worst AP first" in panel.list_title.text() and header.sortIndicatorSection() == 4
    panel._header_clicked(4)                                           # AP again: best first
    assert "best AP first" in panel.list_title.text() and "worst" not in panel.list_title.text()
    assert (header.sortIndicatorSection(), header.sortIndicatorOrder()) == (4, Qt.SortOrder.DescendingOrder)
    aps = [row.ap for row in panel.model.rows if not np.isnan(row.ap)]
    assert aps == sorted(aps, reverse=True)
    panel._header_clicked(0)
    assert "in query order" in panel.list_title.text() and header.sortIndicatorSection() == 0


def test_the_compared_runs_ranking_sits_under_this_one_column_for_column(open_window, tiny_workspace, qtbot):
    panel = _loaded(open_window(tiny_workspace), qtbot)
    assert panel.versus_box.isHidden()
    other = next(path for path in panel.run_paths if path != panel.current_run())
    panel.compare_with(other)
    qtbot.waitUntil(lambda: panel.state.reference_name == other.name and bool(panel.versus_strip.tiles),
                    timeout=20000)
    assert panel.versus_box.isVisible()
    theirs = api.load_eval(other, panel.eval_combo.currentText())
    k = panel.k_spin.value()
    for row in panel.model.rows[:4]:
        panel.table.selectRow(panel.model.rows.index(row))
        there = theirs.query.paths.index(row.path)
        expected = [theirs.gallery.paths[g] for g in theirs.topk_indices[there][:k]]
        assert [spec.path for spec in panel.versus_strip.specs()] == expected
        assert other.name in panel.versus_title.text()
    mine, versus = panel.strip.tiles, panel.versus_strip.tiles
    assert len(mine) == len(versus) == k
    qtbot.waitUntil(lambda: all(a.mapTo(panel, a.rect().topLeft()).x() == b.mapTo(panel, b.rect().topLeft()).x()
                                for a, b in zip(mine, versus)), timeout=5000)
    assert all(a.size() == b.size() for a, b in zip(mine, versus))
    shared = None
    for r in range(panel.model.rowCount()):                            # a query whose two lists share an image
        panel.table.selectRow(r)
        theirs_paths = {spec.path for spec in panel.versus_strip.specs()}
        shared = next((spec for spec in panel.strip.specs() if spec.path in theirs_paths), None)
        if shared is not None:
            break
    assert shared is not None
    panel._tile_clicked(shared)                                        # the same gallery image ringed in both
    panel.tile_menu.close()
    assert [t.spec.path for t in panel.strip.highlighted_tiles()] == [shared.path]
    assert [t.spec.path for t in panel.versus_strip.highlighted_tiles()] == [shared.path]
    panel.compare_combo.setCurrentIndex(0)
    assert panel.versus_box.isHidden() and panel.versus_strip.tiles == []


def test_a_tile_click_offers_enlarge_make_query_and_explain_pair(open_window, tiny_workspace, qtbot):
    window = open_window(tiny_workspace)
    panel = _loaded(window, qtbot)
    query = panel.state.selected_row
    spec = panel.strip.specs()[0]
    qtbot.mouseClick(panel.strip.tiles[0], Qt.MouseButton.LeftButton)
    menu = panel.tile_menu
    assert menu is not None and panel.strip.highlighted_tiles() == [panel.strip.tiles[0]]
    assert [action.text() for action in menu.actions()][0] == "Enlarge…"
    make_query = next(action for action in menu.actions() if action.text().startswith("Make it the query"))
    assert not make_query.isEnabled() and "not a query" in make_query.text()   # gallery images are no queries
    menu.close()
    dialog = panel.open_tile(spec.payload)
    details = dict(spec.payload.details())
    assert details["path"] == spec.path and details["identity"] == str(spec.payload.hit.pid)
    assert details["camera"] == f"c{spec.payload.hit.camid + 1}" and "cosine distance" in details
    assert not dialog.make_query_button.isEnabled()
    with qtbot.waitSignal(panel.pairForSaliency, timeout=5000) as sent:
        dialog.saliency_button.click()
    assert sent.args == [query.path, spec.path]
    dialog.close()
    other = next(row for row in panel.model.rows if row.index != query.index)   # a tile that is a query here
    as_query = spec.payload.__class__(spec.payload.hit.__class__(1, 0, other.path, other.pid, other.camid, 0.1, "same"),
                                      query, panel.current_run().name, other.index)
    panel.filters.search.setText(query.name)                             # the other query is filtered out
    assert panel.make_query(as_query)
    assert panel.state.selected == other.index and panel.state.selected_row.path == other.path
    assert any(row.index == other.index for row in panel.model.rows)


def test_the_enlarged_tile_counts_its_rank_as_the_badges_do(open_window, tiny_workspace, qtbot):
    import dataclasses

    window = open_window(tiny_workspace)
    panel = _loaded(window, qtbot)
    spec = panel.strip.specs()[0]
    behind_junk = dataclasses.replace(spec.payload, hit=dataclasses.replace(spec.payload.hit, rank=79, counted_rank=75,
                                                                            kind="different"))
    dialog = panel.open_tile(behind_junk)
    assert "rank 75 (junk excluded; #79 in the list)" in dialog.windowTitle()
    assert "rank 79 in" not in dialog.windowTitle()
    dialog.close()
