"""Issue 20, item 8 — Training as TensorBoard shows it: the x axis by step, epoch or wall time, a value
readout under the cursor for every overlaid run, a regex run filter, the shown series exported as CSV /
JSON, a hyper-parameter table (differing config keys, final metrics last, sortable, click to select), and
legends that tell runs differing in the middle of their names apart."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, Qt

from app.state.curves import TrainingCurves
from app.state.hparams import METRIC_COLUMNS, differing_keys, flatten, hparams_table, sort_key
from app.state.plot_readout import nearest_index, readout
from app.state.run_filter import compile_filter
from app.state.runs import RunListState, RunRow
from app.state.series_export import export_series
from app.state.training_overlay import PlotOptions, PlottedRun, plot_lines

T0 = 1_700_000_000.0
OFF, ON = "scing-synthped-demo_quick-lr1e-4-pdca-gate_off-seed0", "scing-synthped-demo_quick-lr1e-4-pdca-gate_on-seed0"


def _events(t0: float = T0, stage1_loss: float = 3.0) -> list[dict]:
    """Two stages of 2 epochs × 10 steps (a step event every 5 steps, one minute apart), an eval per
    stage-2 epoch."""
    events, clock = [{"type": "run_started", "time": t0, "config": {"seed": 0}}], t0
    for stage in (1, 2):
        events.append({"type": "stage_started", "time": clock, "stage": stage, "epochs": 2, "start_epoch": 0})
        for epoch in range(2):
            for step in (4, 9):
                clock += 60.0
                events.append({"type": "step", "time": clock, "stage": stage, "epoch": epoch, "step": step,
                               "steps": 10, "lr": 0.01, "losses": {"total": stage1_loss / stage - 0.1 * step}})
            if stage == 2:
                events.append({"type": "eval", "time": clock, "stage": 2, "epoch": epoch, "dataset": "synthped",
                               "mAP": 0.3 + 0.1 * epoch, "R1": 0.5 + 0.1 * epoch})
    return events


def _curves(**kwargs) -> TrainingCurves:
    curves = TrainingCurves()
    curves.add(_events(**kwargs))
    return curves


# -- state: x axes -----------------------------------------------------------------------------------------
def test_points_carry_the_global_step_across_stages_and_the_minutes_since_the_run_started():
    curves = _curves()
    stage1, stage2 = curves.losses(1)["total"], curves.losses(2)["total"]
    assert stage1.along("epoch")[0] == [0.5, 1.0, 1.5, 2.0]
    assert stage1.along("step")[0] == [5, 10, 15, 20]
    assert stage2.along("step")[0] == [25, 30, 35, 40]        # stage 2 counts on from stage 1's 20 steps
    assert stage2.along("time")[0] == [5.0, 6.0, 7.0, 8.0]    # minutes since run_started
    assert curves.evals["synthped"]["mAP"].along("step")[0] == [30, 40]   # evals follow the same axis
    options = PlotOptions(smoothing=0.0, x_axis="step")
    lines = plot_lines([PlottedRun("a", 0, curves)], options)
    assert {line.x[0] for line in lines if line.plot == "loss2"} == {25}
    assert {line.x for line in lines if line.plot == "eval"} == {(30, 40)}
    with pytest.raises(ValueError, match="x axis"):
        PlotOptions(x_axis="minutes")


# -- state: legends, readout, export, filter, hparams ---------------------------------------------------------
def test_overlay_legends_tell_runs_apart_by_the_middle_of_their_names():
    lines = plot_lines([PlottedRun(OFF, 0, _curves()), PlottedRun(ON, 1, _curves())], PlotOptions())
    labels = {line.run: line.label for line in lines if line.plot == "loss1" and line.label}
    assert "gate_off" in labels[OFF] and "gate_on" in labels[ON] and labels[OFF] != labels[ON]
    assert {line.run for line in lines} == {OFF, ON}   # the whole name travels with the line (tooltips, export)


def test_the_readout_gives_every_overlaid_run_its_value_at_the_nearest_x():
    assert nearest_index([1, 2, 4], 2.9) == 1 and nearest_index([1, 2, 4], 3.1) == 2
    assert nearest_index([1, 2, 4], -5) == 0 and nearest_index([1, 2, 4], 99) == 2 and nearest_index([], 1) is None
    runs = [PlottedRun("a", 0, _curves(stage1_loss=3.0)), PlottedRun("b", 1, _curves(stage1_loss=5.0))]
    lines = plot_lines(runs, PlotOptions(smoothing=0.0))
    entries = readout(lines, "loss1", 1.1)
    assert [(e.run, e.x) for e in entries] == [("a", 1.0), ("b", 1.0)]
    assert [round(e.y, 3) for e in entries] == [2.1, 4.1]
    evals = readout(lines, "eval", 2.0)
    assert {(e.run, e.series.split()[0]) for e in evals} == {(r, m) for r in "ab" for m in ("mAP", "R1")}
    smoothed = readout(plot_lines(runs, PlotOptions(smoothing=0.6)), "loss1", 1.1)
    assert len(smoothed) == 2 and all(e.raw is not None for e in smoothed)   # the raw value beside it


def test_the_shown_series_export_as_csv_or_json_atomically(tmp_path):
    lines = plot_lines([PlottedRun("a", 0, _curves()), PlottedRun("b", 1, _curves())],
                       PlotOptions(smoothing=0.0, x_axis="step"))
    rows = list(csv.DictReader(export_series(lines, "step", tmp_path / "s.csv").open()))
    assert set(rows[0]) == {"run", "plot", "series", "x_axis", "x", "y"}
    assert len(rows) == sum(len(line.x) for line in lines) and {r["run"] for r in rows} == {"a", "b"}
    assert {r["x_axis"] for r in rows} == {"step"}
    data = json.loads(export_series(lines, "step", tmp_path / "s.json").read_text())
    assert len(data["points"]) == len(rows)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.csv", "s.json"]   # no temporary file left
    with pytest.raises(ValueError, match=r"\.csv or \.json"):
        export_series(lines, "step", tmp_path / "s.txt")


def test_a_bad_run_filter_says_why_in_one_line_and_filters_nothing():
    bad = compile_filter("[gate")
    assert bad.error.startswith("bad pattern: unterminated character set at 0") and bad.matches("anything")
    state = RunListState()
    rows = [RunRow(name, Path("/w/runs") / name, "scing", "synthped", "completed") for name in (OFF, ON)]
    state.set_rows(rows, select=rows[0].path)
    state.set_overlaid_runs([row.path for row in rows])
    state.set_filter("gate_on")
    assert [path.name for path, _ in state.plotted()] == [ON] and [r.name for r in state.shown_rows()] == [ON]
    state.set_filter("[")
    assert len(state.plotted()) == 2 and state.run_filter.error


def test_the_hparams_table_has_the_differing_keys_then_the_final_metrics():
    assert flatten({"a": {"b": 1, "c": {"d": [1, 2]}}, "e": None}) == {"a.b": 1, "a.c.d": [1, 2], "e": None}
    configs = [{"name": "x", "stage2": {"lr": 1e-4, "epochs": 5}, "model": {"gate": True}},
               {"name": "y", "stage2": {"lr": 5e-4, "epochs": 5}, "model": {"gate": False}},
               {"name": "z", "stage2": {"lr": 2e-5, "epochs": 5}}]
    assert differing_keys(configs) == ["stage2.lr", "model.gate"]   # not the name, not what all share
    rows = [RunRow(n, Path(n), "scing", "synthped", "completed", mAP=m, R1=None if m is None else m + 0.1)
            for n, m in (("x", 0.5), ("y", 0.25), ("z", None))]
    table = hparams_table(rows, {row.path: config for row, config in zip(rows, configs)})
    assert table.columns == ("run", "stage2.lr", "model.gate", *METRIC_COLUMNS)
    assert table.rows[0].values == (1e-4, True, 50.0, 60.0) and table.rows[2].values[1:] == (None, None, None)
    assert sorted([1e-4, 5e-4, 2e-5, None], key=sort_key) == [2e-5, 1e-4, 5e-4, None]   # numerically, missing last
    assert sort_key(10) > sort_key(9)   # not "10" < "9"


def test_the_run_rows_the_panel_lists_report_the_first_test_set(open_window, tmp_path, qtbot):
    run = _run(tmp_path, "two-splits")
    final = {"synthped@synthped_occluded": {"mAP": 0.3, "R1": 0.4}, "synthped@synthped": {"mAP": 0.6, "R1": 0.7}}
    (run / "metrics.json").write_text(json.dumps({"final": final}))   # evaluated on the occluded split first
    panel = open_window(tmp_path).training
    row = panel.runs.rows[panel.runs.index_of(run)]
    assert (row.mAP, row.R1, row.metrics_split) == (0.6, 0.7, "synthped")   # first_test_set: the holistic one
    qtbot.waitUntil(lambda: panel.hparams.rowCount() == 1, timeout=60000)
    assert panel.hparams.column_values(METRIC_COLUMNS[0]) == ["60"]


# -- the panel -------------------------------------------------------------------------------------------------
def _run(workspace: Path, name: str, overrides=(), stage1_loss: float = 3.0, final_map: float | None = None) -> Path:
    from scing_core.config.io import resolve_config, save_config

    run = workspace / "runs" / name
    run.mkdir(parents=True)
    save_config(resolve_config("synthped/scing/quick", list(overrides)), run / "config.yaml")
    events = [dict(v=1, **event) for event in _events(stage1_loss=stage1_loss)]
    if final_map is not None:
        events.append({"v": 1, "type": "run_finished", "time": T0 + 600, "status": "completed", "seconds": 600,
                       "metrics": {"synthped": {"mAP": final_map, "R1": final_map + 0.1}}})
        (run / "metrics.json").write_text(json.dumps({"final": {"synthped": {"mAP": final_map,
                                                                             "R1": final_map + 0.1}}}))
    (run / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    return run.resolve()


@pytest.fixture
def three_runs(tmp_path):
    return [_run(tmp_path, OFF, ["stage2.lr=0.0001"], 3.0, 0.5),
            _run(tmp_path, ON, ["stage2.lr=0.0005"], 5.0, 0.25),
            _run(tmp_path, "clip-baseline", ["stage2.lr=0.00002"], 4.0, 0.125)]


def test_the_x_axis_readout_filter_and_export_of_overlaid_runs(open_window, tmp_path, qtbot, three_runs):
    panel = open_window(tmp_path).training
    panel.controls.set_smoothing(0.0)
    panel.set_overlaid(three_runs)

    def drawn(plot):
        return {key[1]: tuple(item.xData) for key, item in panel.plots.drawn_lines(plot).items()
                if item.isVisible() and item.xData is not None and len(item.xData)}

    qtbot.waitUntil(lambda: len(drawn("loss2")) == 3, timeout=60000)
    assert set(drawn("loss2").values()) == {(1.0 / 2, 1.0, 1.5, 2.0)}       # epochs
    panel.controls.set_x_axis("step")
    qtbot.waitUntil(lambda: set(drawn("loss2").values()) == {(25, 30, 35, 40)}, timeout=60000)
    assert panel.plots.loss_plots[2].getPlotItem().getAxis("bottom").labelText.startswith("step")
    panel.controls.set_x_axis("time")
    qtbot.waitUntil(lambda: set(drawn("eval").values()) == {(6.0, 8.0)}, timeout=60000)

    # the readout: the mouse over the stage-1 plot near epoch 1 reads every run there
    panel.controls.set_x_axis("epoch")
    qtbot.waitUntil(lambda: set(drawn("loss1").values()) == {(0.5, 1.0, 1.5, 2.0)}, timeout=60000)
    plot = panel.plots.loss_plots[1].getPlotItem()
    (y_low, y_high) = plot.getViewBox().viewRange()[1]
    scene_point = plot.getViewBox().mapViewToScene(QPointF(1.05, (y_low + y_high) / 2))
    panel.plots.readout._mouse_moved("loss1", scene_point)
    entries = panel.plots.readout.entries
    assert sorted(e.run for e in entries) == sorted(p.name for p in three_runs) and {e.x for e in entries} == {1.0}
    assert "gate_on" in panel.plots.readout.label.text() and panel.plots.readout.cursors["loss1"].isVisible()

    # export what is drawn
    rows = list(csv.DictReader(panel.export_series(tmp_path / "out" / "series.csv").open()))
    assert {r["run"] for r in rows} == {p.name for p in three_runs} and {r["x_axis"] for r in rows} == {"epoch"}
    assert panel.export_series(tmp_path / "series.xlsx") is None
    assert "name the file .csv or .json" in panel.banner.label.text().replace("\u200b", "")

    # the regex filter: hidden rows are not drawn; a bad pattern says why and filters nothing
    panel.set_run_filter("gate_o[nf]")
    hidden = [panel.table.isRowHidden(r) for r in range(panel.table.rowCount())]
    assert hidden.count(True) == 1
    qtbot.waitUntil(lambda: len(drawn("loss1")) == 2, timeout=60000)
    panel.set_run_filter("gate_(")
    assert panel.filter_error.isVisibleTo(panel) and panel.filter_error.text().startswith("bad pattern: ")
    qtbot.waitUntil(lambda: len(drawn("loss1")) == 3, timeout=60000)
    assert not any(panel.table.isRowHidden(r) for r in range(panel.table.rowCount()))


def test_the_hparams_table_sorts_numerically_and_selects_the_run_clicked(open_window, tmp_path, qtbot, three_runs):
    panel = open_window(tmp_path).training
    table = panel.hparams
    qtbot.waitUntil(lambda: "stage2.lr" in table.table.columns, timeout=60000)
    columns = table.table.columns
    assert columns[0] == "run" and columns[-2:] == METRIC_COLUMNS and "name" not in columns
    assert "model.arch" not in columns   # the same in every run
    lr = columns.index("stage2.lr")
    table.horizontalHeader().sectionClicked.emit(lr)   # what a header click does
    table.sortByColumn(lr, Qt.SortOrder.AscendingOrder)
    assert table.column_values("stage2.lr") == ["2e-05", "0.0001", "0.0005"]
    table.sortByColumn(columns.index(METRIC_COLUMNS[0]), Qt.SortOrder.DescendingOrder)
    assert table.column_values(METRIC_COLUMNS[0]) == ["50", "25", "12.5"]
    assert [table.verticalHeaderItem(r).text() for r in range(3)] == table.column_values("run")   # names stay in sight
    row = table.column_values("run").index(ON)
    table.cellClicked.emit(row, 1)
    assert panel.runs.selected == three_runs[1]
    panel.set_run_filter("gate")
    qtbot.waitUntil(lambda: table.rowCount() == 2, timeout=60000)


def test_a_long_finished_run_shown_again_is_drawn_from_its_kept_curves_until_its_log_grows(tmp_path, qtbot):
    from app.panels.training_sources import SMALL_EVENT_LOG_BYTES, CurveSources
    from app.services.workers import WorkerPool

    def long_run(name: str) -> Path:
        run = _run(tmp_path, name)
        steps = [{"v": 1, "type": "step", "time": T0 + i, "stage": 2, "epoch": 2 + i // 10, "step": i % 10,
                  "steps": 10, "lr": 0.01, "losses": {"total": 1.0, "padding": "x" * 40}} for i in range(1000)]
        with (run / "events.jsonl").open("a") as log:
            log.write("".join(json.dumps(e) + "\n" for e in steps))
            log.write(json.dumps({"v": 1, "type": "run_finished", "time": T0 + 2000, "status": "completed",
                                  "seconds": 1, "metrics": {}}) + "\n")
        assert (run / "events.jsonl").stat().st_size > SMALL_EVENT_LOG_BYTES   # read in a worker
        return run

    a, b = long_run("a"), long_run("b")
    sources = CurveSources(WorkerPool())
    sources.show([a])
    qtbot.waitUntil(lambda: a in sources.curves, timeout=60000)
    first = sources.curves[a]
    sources.show([b])
    qtbot.waitUntil(lambda: b in sources.curves, timeout=60000)
    sources.show([a])
    assert sources.curves.get(a) is first and not sources.loading(a)   # no parsing again
    with (a / "events.jsonl").open("a") as log:                          # the log grew (resumed elsewhere)
        log.write(json.dumps({"v": 1, "type": "error", "time": T0 + 3000, "message": "x"}) + "\n")
    sources.show([b])
    sources.show([a])
    assert sources.loading(a)
    qtbot.waitUntil(lambda: a in sources.curves, timeout=60000)
    assert sources.curves[a] is not first and sources.curves[a].errors == ["x"]
    sources.workers.wait(60000)


def test_hparams_headers_keep_keys_of_the_same_name_apart():
    from app.widgets.hparams_table import header_text

    keys = ("run", "stage1.weight_decay", "stage2.weight_decay", "loss.i2t_similarity")
    assert [header_text(key, keys) for key in keys] == ["run", "stage1.weight_decay", "stage2.weight_decay",
                                                        "i2t_similarity"]
