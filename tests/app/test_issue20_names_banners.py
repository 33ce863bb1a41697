"""Issue 20, items 2 and 6: runs whose names differ only in the middle look different wherever the studio
lists them (the part that differs is shown, the whole name is in the tooltip), and no error banner,
however long its message, widens the window."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

GATE_OFF = "scing-synthped_occluded-demo_quick-lr1e-4-pdca-gate_off-seed0"
GATE_ON = "scing-synthped_occluded-demo_quick-lr1e-4-pdca-gate_on-seed0"
RUN_COMBO_MAX_PX = 260


# -- the names (no display) -----------------------------------------------------------------------------
def test_names_that_differ_in_the_middle_show_the_part_that_differs():
    from app.state.names import distinguishing_names

    assert distinguishing_names([GATE_OFF, GATE_ON]) == ["…gate_off…", "…gate_on…"]
    assert distinguishing_names(["clipreid", "cocoop", "scing", GATE_OFF, GATE_ON]) == [
        "clipreid", "cocoop", "scing", "…gate_off…", "…gate_on…"]
    seeds = [f"scing-synthped-demo-lr2e-4-warmup10-seed{seed}" for seed in (1, 2)]
    assert distinguishing_names(seeds) == ["…warmup10-seed1", "…warmup10-seed2"]
    # a word of one or two characters reads with its neighbour: 'lr1e-4', not 'lr1e'
    assert distinguishing_names(["scing-quick-lr1e-4-seed0", "scing-quick-lr3e-4-seed0"]) == [
        "…quick-lr1e-4…", "…quick-lr3e-4…"]


def test_names_with_nothing_worth_leaving_out_stay_whole():
    from app.state.names import distinguishing_names

    assert distinguishing_names(["run", "run-2", "run-3"]) == ["run", "run-2", "run-3"]
    assert distinguishing_names([GATE_OFF]) == [GATE_OFF]
    assert distinguishing_names(["same", "same"]) == ["same", "same"]
    assert distinguishing_names([]) == []


def test_different_names_never_look_alike():
    from app.state.names import ELLIPSIS, distinguishing_names

    words = ("x", "y", "scing", "gate", "lr1e", "4", "seed0", "seed1", "occluded")
    names = sorted({"-".join(parts) + sep + last for parts in itertools.permutations(words[:4], 3)
                    for sep in "_-." for last in words[5:]})
    shown = distinguishing_names(names)
    assert len(set(shown)) == len(names)
    for name, text in zip(names, shown):   # what is shown is a piece of the name, ellipses where it was cut
        assert text.strip(ELLIPSIS) in name and (text == name or ELLIPSIS in text)


def test_long_unbroken_texts_can_wrap_after_separators_and_inside_long_runs():
    from app.state.names import ZERO_WIDTH_SPACE, breakable

    text = "cannot read /" + "/".join(["d" * 25] * 10) + " " + "x" * 2000
    wrapped = breakable(text)
    assert wrapped.replace(ZERO_WIDTH_SPACE, "") == text
    assert f"/{ZERO_WIDTH_SPACE}" in wrapped
    longest = max(len(piece) for word in wrapped.split() for piece in word.split(ZERO_WIDTH_SPACE))
    assert longest <= 24


# -- the studio --------------------------------------------------------------------------------------------
@pytest.fixture
def gate_runs(tiny_runs, tmp_path) -> Path:
    """A workspace with two complete runs (checkpoints, eval) named like a study's, differing in the middle."""
    for name in (GATE_OFF, GATE_ON):
        shutil.copytree(tiny_runs["scing"], tmp_path / "runs" / name)
    return tmp_path


def _drawn_text(view, index) -> str:
    """What ``view`` draws for ``index``: its delegate's choice of text, elided to the cell as the view does."""
    delegate = view.itemDelegateForIndex(index)
    if hasattr(delegate, "shown_text"):
        return delegate.shown_text(view, index)
    available = view.visualRect(index).width() - 50   # the check box, the colour swatch and the margins
    return view.fontMetrics().elidedText(index.data(), view.textElideMode(), available)


def _drawn_texts(view) -> list[str]:
    model = view.model()
    return [_drawn_text(view, model.index(row, 0)) for row in range(model.rowCount())]


def _told_apart(texts) -> bool:
    """Each of the two runs' texts shows the words that differ (and so the texts differ)."""
    off, on = [t for t in texts if "gate_off" in t], [t for t in texts if "gate_on" in t]
    return len(off) == 1 and len(on) == 1 and off != on


def test_runs_that_differ_in_the_middle_of_their_names_look_different_in_lists_and_combos(open_window, gate_runs,
                                                                                          qtbot):
    window = open_window(gate_runs)
    window.resize(1280, 800)
    table = window.training.table
    qtbot.waitUntil(lambda: table.rowCount() == 2, timeout=60000)
    assert _told_apart(_drawn_texts(table)), _drawn_texts(table)
    assert sorted(table.item(r, 0).toolTip().splitlines()[0] for r in range(2)) == [GATE_OFF, GATE_ON]
    for panel in (window.saliency, window.gap):   # the runs to compare
        window.tabs.setCurrentWidget(panel)
        qtbot.waitUntil(lambda: panel.runs.count() == 2, timeout=60000)
        assert _told_apart(_drawn_texts(panel.runs)), _drawn_texts(panel.runs)
        assert sorted(panel.runs.item(r).toolTip().splitlines()[0] for r in range(2)) == [GATE_OFF, GATE_ON]

    retrieval = window.retrieval
    window.tabs.setCurrentWidget(retrieval)
    qtbot.waitUntil(lambda: retrieval.state is not None and retrieval.compare_combo.count() == 2, timeout=60000)
    other = next(path for path in retrieval.run_paths if path != retrieval.current_run())
    assert retrieval.compare_with(other)
    qtbot.waitUntil(lambda: retrieval.state.reference_name is not None, timeout=60000)
    _settle()
    run_combo, compare_combo = retrieval.run_combo, retrieval.compare_combo
    shown = [run_combo.currentText(), compare_combo.currentText()]
    assert _told_apart(shown), shown
    for combo in (run_combo, compare_combo):
        assert combo.width() <= RUN_COMBO_MAX_PX, combo.width()
        assert combo.fontMetrics().horizontalAdvance(combo.currentText()) < combo.width() - 20   # read whole
        index = combo.currentIndex()   # the whole name in the popup and the tooltip
        assert combo.itemData(index, Qt.ItemDataRole.ToolTipRole) == Path(combo.currentData()).name
    # the header keeps its room: the metrics and the comparison read on a few lines
    lines = retrieval.summary.height() / retrieval.summary.fontMetrics().lineSpacing()
    assert lines <= 4, f"the header is squeezed into {lines:.0f} lines"


def test_gap_table_and_plots_tell_the_runs_apart_and_show_every_point(open_window, gate_runs, qtbot):
    window = open_window(gate_runs)
    window.resize(1280, 800)
    panel = window.gap
    window.tabs.setCurrentWidget(panel)
    qtbot.waitUntil(lambda: panel.runs.count() == 2, timeout=60000)
    panel.runs.set_checked([gate_runs / "runs" / GATE_OFF, gate_runs / "runs" / GATE_ON])
    panel.ids.setValue(4)
    with qtbot.waitSignal(panel.computed, timeout=180000):
        assert panel.compute()
    assert _told_apart(_drawn_texts(panel.table)), _drawn_texts(panel.table)
    assert sorted(panel.table.item(r, 0).toolTip() for r in range(2)) == [GATE_OFF, GATE_ON]
    plots = panel.plots

    def every_point_in_view() -> bool:
        return all(plot.viewport().rect().contains(plots.widget_pos_of(p, kind, i))
                   for p, (plot, view) in enumerate(zip(plots.plots, plots.views))
                   for kind, xy in (("image", view.image_xy), ("text", view.text_xy)) for i in range(len(xy)))

    qtbot.waitUntil(every_point_in_view, timeout=60000)
    titles = [plot.getPlotItem().titleLabel for plot in plots.plots]
    assert _told_apart([title.item.toPlainText() for title in titles]), [t.item.toPlainText() for t in titles]
    for plot, title in zip(plots.plots, titles):   # the title fits its plot
        assert title.item.boundingRect().width() <= plot.viewport().width(), title.item.toPlainText()


# -- banners -------------------------------------------------------------------------------------------------
def _settle() -> None:
    """Let every layout that a change asked to redo be redone (posted layout requests, in turn)."""
    for _ in range(6):
        QApplication.sendPostedEvents()
        QApplication.processEvents()


def test_no_error_banner_widens_the_window(open_window, tiny_workspace):
    window = open_window(tiny_workspace)
    window.resize(1280, 800)
    _settle()
    width, minimum = window.width(), window.minimumSizeHint().width()
    long_path = "/data/" + ("exp_" * 64)[:254]   # 260 characters, a folder name no line may break
    unbreakable = "RuntimeError: " + "x" * 2000
    assert len(long_path) == 260
    for message in (f"cannot compare with {GATE_ON}: cannot read {long_path}/runs/{GATE_ON}/eval/per_query.npz",
                    unbreakable):
        for panel in window.panels.values():
            window.tabs.setCurrentWidget(panel)
            panel.banner.show_error(message)
            _settle()
            assert panel.banner.message == message
            assert panel.banner.label.width() <= window.width(), type(panel).__name__
            assert (window.width(), window.minimumSizeHint().width()) == (width, minimum), type(panel).__name__


def test_retrievals_could_not_load_page_does_not_widen_the_window(open_window, tiny_workspace):
    """The page shown in place of an eval that cannot be read names its folder: a long path wraps."""
    window = open_window(tiny_workspace)
    window.resize(1280, 800)
    window.tabs.setCurrentWidget(window.retrieval)
    _settle()
    width, minimum = window.width(), window.minimumSizeHint().width()
    long_path = "/data/" + ("exp_" * 64)[:254]
    window.retrieval.browser.show_failure("scing", "synthped", f"cannot read {long_path}/eval/synthped/per_query.npz "
                                          + "x" * 1500)
    _settle()
    assert window.retrieval.pages.currentWidget() is window.retrieval.empty_state
    assert (window.width(), window.minimumSizeHint().width()) == (width, minimum)


def test_a_banners_copy_gives_the_message_without_its_break_points(qtbot):
    from PySide6.QtGui import QGuiApplication

    from app.widgets.error_banner import ErrorBanner

    banner = ErrorBanner()
    qtbot.addWidget(banner)
    message = "cannot read /data/" + "x" * 300 + "/runs/a/metrics.json: not JSON"
    banner.show_error(message)
    assert "\u200b" in banner.label.text()   # the label may break inside the long run
    banner.copy_button.click()
    assert QGuiApplication.clipboard().text() == message


def _user_data_labels(window):
    """The labels that show what a user typed or a file path (not fixed wording), per panel."""
    gap, dataset, study = window.gap, window.dataset, window.study
    projector = next(value for value in vars(gap).values() if type(value).__name__ == "GapProjector")
    return {"gap hover": gap.hover_info, "gap find": projector.find.message, "gap lasso": projector.lasso.count,
            "gap neighbours": projector.neighbours.title, "dataset message": dataset.message,
            "dataset caption": dataset.caption, "dataset grid title": dataset.grid_title,
            "study summary": study.summary, "study message": study.message}


def test_labels_showing_paths_or_typed_text_never_widen_the_window(open_window, tiny_workspace):
    window = open_window(tiny_workspace)
    window.resize(1280, 800)
    _settle()
    width, minimum = window.width(), window.minimumSizeHint().width()
    long_path = "/data/" + ("exp_" * 64)[:254] + "/0001_c1s1_000151_00.jpg"
    for name, label in _user_data_labels(window).items():
        window.tabs.setCurrentWidget(next(p for p in window.panels.values() if p.isAncestorOf(label)))
        label.setText(f"no point matches '{long_path}' " + "x" * 1500)
        _settle()
        assert (window.width(), window.minimumSizeHint().width()) == (width, minimum), name
