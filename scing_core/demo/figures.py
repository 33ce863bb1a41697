"""The demo's analysis steps: efficiency table, saliency grid + person share, modality gap,
occlusion robustness and distance figures, written to ``WS/figures/`` with their numbers as JSON.

Each step needs its analysis module (``scing_core.analysis.*``); while one is missing the step is
reported as ``unavailable`` and the report says so (a later ``scing demo`` picks it up). Numbers
come only from the analysis code run on the workspace's runs - nothing is filled in by hand.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import logging
from pathlib import Path

from scing_core.atomic import read_json, write_text_atomic
from scing_core.data import load_dataset
from scing_core.demo.workspace import METHODS, DemoSettings, DemoWorkspace, write_json_atomic
from scing_core.evaluation import load_eval_artifacts, pair_distance_histograms, roc_curve
from scing_core.pipeline.progress import StepReporter
from scing_core.pipeline.steps import Step
from scing_core.pipeline.synthetic import SPLITS, SynthClipStep
from scing_core.runs.layout import RunDir
from scing_core.runs.trained import TrainedRun

log = logging.getLogger(__name__)

# (quick, full) expected seconds on an idle 2-core CPU; the full gap step uses UMAP, whose numba
# compilation adds 15-40 s the first time on a machine.
FIGURE_SECONDS = {
    "efficiency": (0.5, 0.5), "saliency": (2.0, 3.0), "gap": (1.0, 20.0), "robustness": (1.5, 4.0),
    "distances": (1.5, 1.5), "ranking": (1.5, 2.0),
}
RANKING_QUERIES, RANKING_K = 3, 8   # the hardest occluded queries of the SCING run, top-8 each


class FigureStep(Step):
    """A step that writes ``figures/<stem>.json`` (its numbers) and, for figures, PNG + PDF.

    Each step imports its analysis ``module`` when it runs, not with this module: the analysis modules
    need the optional ``[analysis]`` extra (matplotlib, grad-cam, umap-learn), and a figure whose module
    is missing or broken is reported unavailable or failed while the rest of the demo goes on."""

    optional = True          # a failing figure does not stop the demo; the report says it failed
    key = ""
    module = ""
    needs: tuple[str, ...] = ()   # attributes the module must have
    outputs: tuple[str, ...] = ()  # file names under figures/
    uses_runs = True               # computed from the runs (redone when a run is retrained)

    def __init__(self, ws: DemoWorkspace, settings: DemoSettings) -> None:
        self.ws, self.settings = ws, settings
        self.name = f"figures/{self.key}"

    @staticmethod
    def each_method(reporter: StepReporter, share: float = 1.0):
        """The demo's methods in order, reporting each as started within the first ``share`` of the step."""
        for i, method in enumerate(METHODS):
            reporter.fraction(share * i / len(METHODS), method)
            yield method

    def expected_seconds(self) -> float:
        quick, full = FIGURE_SECONDS[self.key]
        return quick if self.settings.quick else full

    def unavailable_reason(self) -> str:
        if importlib.util.find_spec(self.module) is None:
            return f"{self.module} is not available yet"
        missing = [n for n in self.needs if not hasattr(importlib.import_module(self.module), n)]
        if missing:
            return f"{self.module} lacks {', '.join(missing)}"
        if SynthClipStep(self.ws, self.settings).unavailable_reason():
            return "needs the three runs, which need SynthCLIP"
        return ""

    def is_done(self) -> bool:
        """All outputs exist and are newer than every run's metrics.json (a retrained run redoes them)."""
        if not all((self.ws.figures / name).is_file() for name in self.outputs):
            return False
        written = self.numbers_path.stat().st_mtime
        runs = [RunDir.at(self.ws.run(m)).metrics for m in METHODS] if self.uses_runs else []
        return all(p.stat().st_mtime <= written for p in runs if p.exists())

    @property
    def numbers_path(self) -> Path:
        return self.ws.figures / f"{self.key}.json"

    def write_numbers(self, data: dict) -> None:
        write_json_atomic(self.numbers_path, data)


class EfficiencyStep(FigureStep):
    """Parameters, MACs and latency of the three demo models (SynthCLIP-S architecture)."""

    key, title = "efficiency", "efficiency table"
    module = "scing_core.analysis.efficiency"
    needs = ("efficiency_table", "format_table")
    outputs = ("efficiency.txt", "efficiency.json")
    uses_runs = False

    def unavailable_reason(self) -> str:  # measures randomly built models: needs no run
        if importlib.util.find_spec(self.module) is None:
            return f"{self.module} is not available"
        return ""

    def run(self, reporter: StepReporter) -> str:
        from scing_core.analysis.efficiency import efficiency_table, format_table   # here: the step's module (FigureStep)

        num_classes = self.settings.ids // 2
        rows = []
        for method in self.each_method(reporter):
            rows += efficiency_table([method], arch="synthclip-s", num_classes=num_classes, stride=16,
                                     image_size=tuple(self.settings.size), num_cams=0, device="cpu")
        write_text_atomic(self.ws.figures / "efficiency.txt", format_table(rows) + "\n")
        self.write_numbers({"arch": "synthclip-s", "image_size": list(self.settings.size), "num_classes": num_classes,
                            "rows": [dataclasses.asdict(r) for r in rows]})
        return "ran"


class SaliencyStep(FigureStep):
    """Grad-CAM grid (occluded queries x runs) and the CAM energy share on the person, per split."""

    key, title = "saliency", "saliency grid + person share"
    module = "scing_core.analysis.saliency"
    needs = ("compute_saliency", "saliency_grid_figure")
    outputs = ("saliency.png", "saliency.json")

    def run(self, reporter: StepReporter) -> str:
        from scing_core.analysis.saliency import compute_saliency, saliency_grid_figure   # here: the step's module
        from scing_core.analysis.saliency_share import person_share_summary, spread_samples   # here: its helper

        queries = load_dataset("synthped", str(self.ws.dataset("occluded"))).query
        rows = [s.path for s in spread_samples(queries, self.settings.saliency_images)]
        grid, shares = {}, {}
        for method in self.each_method(reporter):
            bundle = _model_bundle(self.ws.run(method))
            grid[method] = compute_saliency(self.ws.run(method), rows, target="prototype", method="gradcam",
                                            model_bundle=bundle)
            shares[method] = {}
            for split in SPLITS:
                summary = person_share_summary(self.ws.run(method), self.ws.dataset(split),
                                               n_images=self.settings.share_images, model_bundle=bundle)
                shares[method][split] = {"mean": summary.mean, "std": summary.std, "n_images": summary.n_images,
                                         "mask_area": summary.mask_area, "n_zero_maps": summary.n_zero_maps}
        saliency_grid_figure(grid, self.ws.figures / "saliency.png")
        self.write_numbers({"target": "prototype", "method": "gradcam", "checkpoint": "selected", "images": rows,
                            "person_share": shares})
        return "ran"


def _model_bundle(run_dir):
    return TrainedRun.open(run_dir).load("selected", "auto")


class GapStep(FigureStep):
    """Image-text modality gap of each run: joint 2-D projection and the gap numbers."""

    key, title = "gap", "modality gap"
    module = "scing_core.analysis.modality_gap"
    needs = ("collect_gap_embeddings", "project_2d", "gap_figure")
    outputs = ("modality_gap.png", "gap.json")

    def run(self, reporter: StepReporter) -> str:
        from scing_core.analysis.modality_gap import collect_gap_embeddings, gap_figure, project_2d   # here: the step's module

        results, numbers = [], {}
        for method in self.each_method(reporter, share=0.5):
            result = collect_gap_embeddings(self.ws.run(method), ids=self.settings.gap_ids, text="prototype",
                                            seed=self.settings.seed)
            results.append(result)
            numbers[method] = {"prototype": result.metrics}
            if result.method != "clipreid":  # the prompt each image writes for itself
                conditioned = collect_gap_embeddings(self.ws.run(method), ids=self.settings.gap_ids,
                                                     text="conditioned", seed=self.settings.seed)
                numbers[method]["conditioned"] = conditioned.metrics
        reporter.fraction(0.5, f"{self.settings.projection} projection")
        gap_figure(project_2d(results, method=self.settings.projection, seed=self.settings.seed),
                   self.ws.figures / "modality_gap.png")
        self.write_numbers({"ids": self.settings.gap_ids, "split": "train", "projection": self.settings.projection,
                            "text": "prototype (figure); conditioned also measured for cocoop / scing",
                            "metrics": numbers})
        return "ran"


class RobustnessStep(FigureStep):
    """mAP / R1 with synthetic occluders and random erasing pasted on the holistic queries."""

    key, title = "robustness", "occlusion robustness"
    module = "scing_core.analysis.robustness"
    needs = ("robustness_curves", "robustness_figure")
    outputs = ("robustness.png", "robustness.json")

    def run(self, reporter: StepReporter) -> str:
        from scing_core.analysis.robustness import robustness_curves, robustness_figure   # here: the step's module

        curves = {}
        for method in self.each_method(reporter):
            part = robustness_curves([self.ws.run(method)], fractions=self.settings.robustness_fractions,
                                     seed=self.settings.seed, dataset="synthped", root=self.ws.dataset("holistic"))
            curves = part if not curves else {**curves, "runs": {**curves["runs"], **part["runs"]}}
        robustness_figure(curves, self.ws.figures / "robustness.png")
        self.write_numbers({**curves, "queries": "holistic test split, occluded synthetically"})
        return "ran"


class DistanceStep(FigureStep):
    """Positive / negative distance histograms and ROC of each run on both test splits."""

    key, title = "distances", "distance histograms + ROC"
    module = "scing_core.analysis.distance_figures"
    needs = ("distance_figures", "eval_distances")

    @property
    def outputs(self) -> tuple[str, ...]:  # type: ignore[override]
        return (*(f"distances_{m}_{s}.png" for m in METHODS for s in SPLITS), "distances.json")

    def run(self, reporter: StepReporter) -> str:
        from scing_core.analysis.distance_figures import distance_figures, eval_distances   # here: the step's module

        numbers: dict = {}
        for method in self.each_method(reporter):
            numbers[method] = {}
            for split in SPLITS:
                eval_dir = RunDir.at(self.ws.run(method)).eval_dir(self.ws.eval_label(split))
                distance_figures(eval_dir, self.ws.figures / f"distances_{method}_{split}.png")
                art = load_eval_artifacts(eval_dir)
                labels = (art.query.pids, art.gallery.pids, art.query.camids, art.gallery.camids)
                distmat = eval_distances(art)
                hist, roc = pair_distance_histograms(distmat, *labels), roc_curve(distmat, *labels)
                numbers[method][split] = {"positive_mean": hist.positive_mean, "negative_mean": hist.negative_mean,
                                          "auc": roc.auc, "tar_at_far_1pct": roc.tar_at_far(0.01)}
        self.write_numbers({"distance": "cosine", "runs": numbers})
        return "ran"


class RankingStep(FigureStep):
    """The ranked lists of the SCING run's hardest occluded queries (where retrieval fails, and how)."""

    key, title = "ranking", "hardest queries"
    module = "scing_core.analysis.ranking_figure"
    needs = ("ranking_figure", "worst_queries")
    outputs = ("ranking.png", "ranking.json")

    def run(self, reporter: StepReporter) -> str:
        from scing_core.analysis.ranking_figure import ranking_figure, worst_queries   # here: the step's module

        artifacts = load_eval_artifacts(RunDir.at(self.ws.run("scing")).eval_dir(self.ws.eval_label("occluded")))
        queries = worst_queries(artifacts, RANKING_QUERIES)
        reporter.fraction(0.5, "drawing")
        ranking_figure(artifacts, self.ws.figures / "ranking.png", queries=queries, k=RANKING_K)
        self.write_numbers({"run": "scing", "split": "occluded", "k": RANKING_K, "queries": [
            {"index": i, "path": artifacts.query.paths[i], "pid": int(artifacts.query.pids[i]),
             "ap": float(artifacts.ap[i]), "first_hit_rank": int(artifacts.first_hit[i]) + 1} for i in queries]})
        return "ran"


def build_figure_steps(ws: DemoWorkspace, settings: DemoSettings) -> list[FigureStep]:
    return [cls(ws, settings) for cls in (EfficiencyStep, SaliencyStep, GapStep, RobustnessStep, DistanceStep,
                                          RankingStep)]


def figure_numbers(ws: DemoWorkspace, key: str) -> dict | None:
    """The numbers a figure step wrote (None when it has not run)."""
    return read_json(ws.figures / f"{key}.json")
