"""The analysis panels' evented state without a display: SaliencyState, GapState, StudyState and
DatasetState emit once per change (never when nothing changed), a workspace switch replaces everything
with one ``reset``, and the outcome of a computation or a load that was overtaken is dropped."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np

from app.state.dataset_summary import NO_DATA, DatasetState, DatasetSummary
from app.state.evented import Placeholder
from app.state.gap import HOVER_HINT, INTRO, GapState
from app.state.gap_view import GapView, HoveredPoint
from app.state.runs import RunRow
from app.state.saliency import FAILED_TEXT, START_TEXT, SaliencyGrid, SaliencyState
from app.state.study import NO_STUDIES, StudyShown, StudyState, StudyView

WS, OTHER = Path("/ws"), Path("/other")


def _rows(workspace=WS, *names):
    names = names or ("clipreid", "cocoop", "scing")
    return [RunRow(name, workspace / "runs" / name, name, "synthped", "completed") for name in names]


def _record(state):
    """Every emission of every signal of ``state``, as ``(signal name, args)`` in order."""
    calls = []
    for name in dir(type(state)):
        if name.endswith(("_changed", "_reported", "_cleared")) or name in ("reset", "loaded"):
            getattr(state, name).connect(lambda *args, name=name: calls.append((name, args)))
    return calls


def _names(calls):
    return [name for name, _ in calls]


def _cam_result(path, run="scing"):
    cam = np.zeros((4, 2), dtype=np.float32)
    cam[0, 0] = 1.0
    return SimpleNamespace(path=str(path), cam=cam, image=np.zeros((4, 2, 3), np.uint8), person_share=0.5, note="",
                           target="prototype", run=run, method="gradcam")


# -- Saliency ------------------------------------------------------------------------------------------------
def test_saliency_inputs_emit_once_per_change_and_nothing_when_set_again():
    state = SaliencyState()
    calls = _record(state)
    state.set_images(["/q.jpg", "/g1.jpg"], pair_with_first=True)
    assert _names(calls) == ["inputs_changed"]
    assert calls[0][1][0].images == ("/q.jpg", "/g1.jpg") and state.inputs.target == "image"
    state.set_images(["/q.jpg", "/g1.jpg"], pair_with_first=True)
    state.set_target("image")
    state.suggest_images(["/other.jpg"])          # there are images: no suggestion taken
    state.set_methods(["gradcam", "scorecam"])    # gradcam still offered: the inputs stay
    state.set_methods(["gradcam", "scorecam"])
    assert _names(calls) == ["inputs_changed", "methods_changed"]
    state.set_method("scorecam")
    state.set_methods(["gradcam"])                # scorecam gone: back to Grad-CAM
    assert _names(calls)[2:] == ["inputs_changed", "methods_changed", "inputs_changed"]
    assert state.inputs.method == "gradcam"


def test_saliency_rescan_keeps_ticks_and_a_workspace_switch_resets_everything_with_one_emission(tmp_path):
    state = SaliencyState()
    state.set_workspace(WS, _rows())
    assert [p.name for p in state.checked] == ["clipreid", "cocoop", "scing"]
    state.set_checked([WS / "runs" / "scing"])
    state.set_images([tmp_path / "a.jpg"])
    state.show_outcome(({"scing": [_cam_result(tmp_path / "a.jpg")]}, {"cocoop": "no checkpoint yet"}))
    calls = _record(state)
    state.set_workspace(WS, _rows())                       # a rescan, nothing new
    state.set_checked([WS / "runs" / "scing"])
    assert calls == []
    state.set_workspace(WS, _rows(WS, "scing", "new"))     # a rescan with another run: the tick stays
    assert _names(calls) == ["rows_changed"] and state.checked == (WS / "runs" / "scing",)
    calls.clear()
    state.set_workspace(OTHER, _rows(OTHER, "clipreid"))
    assert _names(calls) == ["reset"]
    assert state.inputs.images == () and state.checked == (OTHER / "runs" / "clipreid",)
    assert state.shown == Placeholder(START_TEXT) and state.results is None and not state.exportable
    assert state.error == "" and state.progress == "" and not state.busy


def test_a_saliency_computation_emits_its_steps_and_drops_an_overtaken_outcome(tmp_path):
    image = tmp_path / "a.jpg"
    image.write_bytes(b"x")
    state = SaliencyState()
    state.set_workspace(WS, _rows())
    calls = _record(state)
    assert state.start() is None and state.start() is None    # no image: reported each time it is pressed
    assert _names(calls) == ["error_reported", "error_reported"] and "add at least one image" in calls[0][1][0]
    calls.clear()
    state.set_images([image])
    first, request = state.start()
    assert request.image_paths == (str(image),)
    assert _names(calls) == ["inputs_changed", "busy_changed", "progress_changed", "shown_changed", "error_cleared"]
    assert state.shown.text == "Computing gradcam for 1 image(s) × 3 run(s)…"
    second, _ = state.start()                                # the first one is overtaken
    calls.clear()
    state.finish(first, ({"scing": [_cam_result(image)]}, {}))
    state.set_progress(first, "late")
    assert calls == []
    state.finish(second, ({"scing": [_cam_result(image)]}, {}))
    assert _names(calls) == ["busy_changed", "progress_changed", "exportable_changed", "shown_changed"]
    assert isinstance(state.shown, SaliencyGrid) and state.progress == "gradcam: 1 image(s) × 1 run(s)"
    calls.clear()
    third, _ = state.start()
    state.fail(third, "RuntimeError: boom")
    assert state.shown == Placeholder(FAILED_TEXT) and ("error_reported", ("RuntimeError: boom",)) in calls
    assert state.exportable                                  # the grid computed before can still be exported


# -- Modality gap ---------------------------------------------------------------------------------------------
class _WarmUp:
    def __init__(self):
        self.alive = True

    def is_alive(self):
        return self.alive


def _gap_outcome(run=WS / "runs" / "scing"):
    xy = np.arange(8, dtype=np.float64).reshape(4, 2)
    paths = [f"/img{i}.jpg" for i in range(4)]
    view = GapView(str(run), "scing", "prototype", xy, xy + 1, np.array([1, 1, 2, 2]), paths)
    result = SimpleNamespace(run=str(run), method="scing", text_kind="prototype", pids=[1, 1, 2, 2],
                             metrics={"mean_paired_cosine_distance": 0.5, "centroid_gap": 0.2, "i2t_r1": 0.5})
    return [view], [result], {}


def test_gap_inputs_hover_and_umap_hint_emit_once_per_change():
    state = GapState()
    calls = _record(state)
    state.set_inputs(ids=12)
    state.set_inputs(ids=12)
    assert _names(calls) == ["inputs_changed"]
    warm_up = _WarmUp()
    state.watch_umap_warm_up(warm_up)
    assert state.poll_umap() and state.poll_umap()
    assert calls[-1] == ("umap_status_changed", ("UMAP: compiling in the background…",))
    state.set_inputs(projection="umap")
    assert _names(calls)[-2:] == ["inputs_changed", "umap_status_changed"] and "first use" in state.umap_status
    warm_up.alive = False
    assert not state.poll_umap() and state.umap_status == "UMAP ready."
    calls.clear()
    point = HoveredPoint(str(WS / "runs" / "scing"), "image", 0)
    state.set_hovered(point, " · identity 1")
    state.set_hovered(point, " · identity 1")
    state.set_hovered(None, "")                              # the mouse left: the line stays
    assert calls == [("hover_changed", ("<b>scing</b> · identity 1",))]


def test_umap_that_cannot_run_says_so_and_keeps_saying_it_when_the_projection_changes():
    state = GapState()
    calls = _record(state)
    state.umap_unavailable("No module named 'umap'")
    state.set_inputs(projection="umap")
    state.set_inputs(projection="pca")
    assert state.umap_status == "UMAP unavailable (No module named 'umap'); use PCA"
    assert _names(calls).count("umap_status_changed") == 1


def test_gap_outcome_failure_and_workspace_switch():
    state = GapState()
    state.set_workspace(WS, _rows())
    ticket, request = state.start()
    assert request.run_dirs == tuple(row.path for row in _rows())
    calls = _record(state)
    state.finish(ticket, _gap_outcome())
    assert _names(calls) == ["busy_changed", "progress_changed", "exportable_changed", "shown_changed"]
    assert state.progress == "1 run(s), PCA (instant)" and state.query_of(HoveredPoint(str(WS / "runs" / "scing"),
                                                                                          "image", 2)) == "/img2.jpg"
    state.set_hovered(HoveredPoint(str(WS / "runs" / "scing"), "image", 0), "x")
    ticket, _ = state.start()
    calls.clear()
    state.finish(ticket, ([], [], {"scing": "no checkpoint"}))   # every run failed: the error replaces the plots
    assert state.shown == Placeholder("The modality gap could not be computed: no run could be used — scing: "
                                      "no checkpoint", error=True)
    assert state.hover == HOVER_HINT and not state.exportable and state.views == []
    assert ("error_reported", ("scing: no checkpoint",)) in calls
    calls.clear()
    state.set_workspace(OTHER, _rows(OTHER, "clipreid"))
    assert _names(calls) == ["reset"] and state.shown == Placeholder(INTRO) and state.error == ""


# -- Study ----------------------------------------------------------------------------------------------------
STUDY = {"plan": {"title": "T", "seeds": [0]}, "test_sets": ["a", "b"], "reference": "r",
         "rows": [{"name": "r", "seeds": [0], "runs": {"0": "runs/r-s0"}}], "pairs": []}


def test_a_study_loads_once_per_ticket_and_its_test_set_and_selection_emit_once():
    state = StudyState()
    calls = _record(state)
    ticket, folder = state.set_workspace(WS, [WS / "studies" / "abl", WS / "studies" / "other"])
    assert _names(calls) == ["reset"] and folder == WS / "studies" / "abl"
    assert state.shown == Placeholder("loading abl…")
    calls.clear()
    view = StudyView(folder, STUDY)
    state.show_loaded(ticket - 1, view)                        # an older load: dropped
    assert calls == []
    state.show_loaded(ticket, view)
    assert calls == [("shown_changed", (StudyShown(view, "a"),)), ("loaded", (view,))]
    calls.clear()
    state.set_test_set("a")
    state.select_row("r")
    state.select_row("r")
    state.set_test_set("b")
    assert _names(calls) == ["selection_changed", "can_open_changed", "shown_changed"]
    assert state.run_dir_of("r") == folder / "runs" / "r-s0"
    calls.clear()
    ticket, _ = state.set_workspace(WS, [WS / "studies" / "abl", WS / "studies" / "other"])   # a rescan reloads
    assert _names(calls) == ["shown_changed", "selection_changed", "can_open_changed"]
    state.show_loaded(ticket, StudyView(folder, STUDY))
    assert state.test_set == "b"                                # kept across the reload


def test_a_failed_study_load_and_a_workspace_without_studies():
    state = StudyState()
    ticket, _ = state.set_workspace(WS, [WS / "studies" / "abl"])
    calls = _record(state)
    state.show_failure(ticket, "study.json is not JSON")
    assert calls == [("shown_changed", (Placeholder("study.json is not JSON", error=True),)),
                     ("error_reported", ("study.json is not JSON",))]
    calls.clear()
    assert state.set_workspace(OTHER, []) is None
    assert _names(calls) == ["reset"] and state.shown == Placeholder(NO_STUDIES) and state.studies == ()
    state.show_loaded(ticket, StudyView(WS, STUDY))             # the previous workspace's load: dropped
    assert state.view is None and _names(calls) == ["reset"]


# -- Dataset --------------------------------------------------------------------------------------------------
def _summary():
    samples = {"train": [SimpleNamespace(path=f"/d/train/{pid}_{i}.jpg", pid=pid, camid=i) for pid in (0, 1)
                         for i in range(2)],
               "query": [SimpleNamespace(path="/d/query/5_0.jpg", pid=5, camid=0)],
               "gallery": [SimpleNamespace(path="/d/gallery/5_1.jpg", pid=5, camid=1)]}
    dataset = SimpleNamespace(root="/d", split=lambda split: samples[split])
    return DatasetSummary.from_dataset("synthped", dataset)


def test_a_dataset_load_lists_its_identities_and_browses_the_first_once():
    state = DatasetState(["market1501", "synthped"])
    calls = _record(state)
    ticket, name, root = state.set_workspace(WS, [WS / "data" / "notes", WS / "data" / "synthped_occluded"])
    assert _names(calls) == ["reset"] and (name, root) == ("synthped", str(WS / "data" / "synthped_occluded"))
    assert state.folders == (root,) and state.source.loader == "synthped"
    assert state.set_workspace(WS, []) is None and _names(calls) == ["reset"]   # a rescan: nothing to do
    calls.clear()
    summary = _summary()
    state.show_loaded(ticket - 1, summary)
    assert calls == []
    state.show_loaded(ticket, summary)
    assert _names(calls) == ["shown_changed", "identities_changed", "identity_changed", "loaded"]
    assert state.identity == ("train", 0) and len(state.identities) == 3
    calls.clear()
    state.select_identity(("train", 0))
    state.set_group("all")
    assert calls == []
    state.set_group("query + gallery identities")
    assert _names(calls) == ["group_changed", "identities_changed", "identity_changed"]
    samples_ticket, key, samples = state.samples_load()
    assert key == ("test", 5) and [s.split for s in samples] == ["query", "gallery"]
    state.show_samples(samples_ticket - 1, key, samples, ["old"])
    state.show_samples(samples_ticket, key, samples, ["q", "g"])
    assert _names(calls)[-1] == "samples_changed" and state.samples.images == ["q", "g"]


def test_a_dataset_that_cannot_load_and_a_workspace_switch():
    state = DatasetState(["synthped"])
    ticket, name, root = state.load("synthped", "/nowhere")
    calls = _record(state)
    state.show_failure(ticket, name, root, "no such folder")
    text = "Cannot open synthped at /nowhere: no such folder"
    assert calls == [("shown_changed", (Placeholder(text, error=True),)), ("error_reported", (text,))]
    state.set_folder("/d")
    state.set_folder("/d")
    assert _names(calls)[-1] == "source_changed" and len(calls) == 3
    calls.clear()
    assert state.set_workspace(OTHER, []) is None
    assert _names(calls) == ["reset"] and state.shown == Placeholder(NO_DATA) and state.error == ""
    assert state.source.folder == "" and state.identities == () and state.samples is None
