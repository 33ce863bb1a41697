"""The synthetic data a workspace is built on: SynthPed (holistic + occluded) and SynthCLIP.

``SynthData`` says what is generated (people, images, cameras, sizes, SynthCLIP's plan), ``SynthLayout``
where it lives in a workspace; :class:`SynthPedStep` and :class:`SynthClipStep` build it. The demo and
the studies with ``data: demo`` share this layout::

    WS/data/synthped/             SynthPed (holistic test split)
    WS/data/synthped_occluded/    SynthPed-Occluded: the same people and files, plus occluders (training data)
    WS/data/synthclip/            SynthCLIP's pre-training images (other people: pids beyond the demo's)
    WS/synthclip/synthclip-s.pt   SynthCLIP weights (+ synthclip-s.pt.json: its metrics)
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from scing_core.atomic import read_json
from scing_core.pipeline.progress import StepReporter
from scing_core.pipeline.steps import Step

SPLITS = {"holistic": "synthped", "occluded": "synthped_occluded"}  # split name -> data folder
TEST_DATASET = "synthped"

# Seconds of work, measured on this project's 2-core CPU when idle (docs/demo-report.md), keyed by
# quick: they only feed the ETA, which the progress view corrects with the pace it observes.
SYNTHPED_IMAGES_PER_SECOND = 250.0
SYNTHCLIP_SECONDS = {True: 22.0, False: 60.0}


@dataclass(frozen=True)
class SynthData:
    """Everything that decides the synthetic data. ``quick`` trades size for speed (the tests use it)."""

    quick: bool = False
    seed: int = 0
    ids: int = 160                 # SynthPed identities (half train, half test)
    images_per_id: int = 10
    cams: int = 6
    distractors: int = 80
    size: tuple[int, int] = (128, 64)   # SynthCLIP's input size
    synthclip_ids: int | None = None     # SynthCLIP pre-training people (None: its own plan)
    synthclip_epochs: int | None = None  # SynthCLIP pre-training epochs (None: its own plan)

    @classmethod
    def for_mode(cls, quick: bool, seed: int = 0) -> "SynthData":
        """The full data or the quick one. SynthCLIP's own quick plan (80 people x 2 images) stays near
        chance; 160 x 2 for 12 epochs is the smallest that gives the ReID runs features to build on
        (docs/demo-report.md)."""
        if not quick:
            return cls(quick=False, seed=seed)
        return cls(quick=True, seed=seed, ids=64, images_per_id=8, cams=4, distractors=20, synthclip_ids=320,
                   synthclip_epochs=12)

    def data_fields(self) -> dict:
        """This object's SynthData fields only (a subclass's other settings left out)."""
        return {name: getattr(self, name) for name in SynthData.__dataclass_fields__}


@dataclass(frozen=True)
class SynthLayout:
    """Where the synthetic data lives under a workspace ``root`` (nothing is created until a step writes)."""

    root: Path

    data = property(lambda self: self.root / "data")
    synthclip_data = property(lambda self: self.root / "data" / "synthclip")
    synthclip = property(lambda self: self.root / "synthclip" / "synthclip-s.pt")
    synthclip_metrics = property(lambda self: self.root / "synthclip" / "synthclip-s.pt.json")

    def dataset(self, split: str) -> Path:
        """The data folder of ``split`` (``holistic`` or ``occluded``)."""
        return self.data / SPLITS[split]

    def eval_label(self, split: str) -> str:
        """The engine's label (and eval folder name) for ``split``: ``synthped@<data folder>``."""
        return f"{TEST_DATASET}@{SPLITS[split]}"

    def test_datasets(self) -> tuple[str, ...]:
        """``data.test_datasets`` of a run trained here: the occluded split, then the holistic one."""
        return tuple(f"{TEST_DATASET}@{self.dataset(split)}" for split in ("occluded", "holistic"))


class SynthPedStep(Step):
    """SynthPed (``holistic``) or SynthPed-Occluded (``occluded``): same seed, same people and files."""

    light = True   # pure Python drawing: one CPU thread is all it uses

    def __init__(self, layout: SynthLayout, data: SynthData, split: str) -> None:
        self.layout, self.settings, self.split = layout, data, split
        self.name = f"data/{split}"
        self.title = "SynthPed-Occluded" if split == "occluded" else "SynthPed"
        self.folder = layout.dataset(split)

    def parameters(self) -> dict:
        s = self.settings
        return dict(ids=s.ids, images_per_id=s.images_per_id, cams=s.cams, size=list(s.size),
                    occluded=self.split == "occluded", seed=s.seed, distractors=s.distractors,
                    identity_seed=s.seed, pid_offset=0)

    def expected_seconds(self) -> float:
        s = self.settings
        return (s.ids * s.images_per_id + s.distractors) / SYNTHPED_IMAGES_PER_SECOND

    def is_done(self) -> bool:
        # here, as in run(): numpy + PIL (~250 ms); DemoWorkspace (api.launch_overrides, *fast*) imports this module
        from scing_core.data.synthped import synthped_state

        meta = read_json(self.folder / "meta.json")
        return synthped_state(self.folder) == "complete" and bool(meta) and meta.get("parameters") == self.parameters()

    def run(self, reporter: StepReporter) -> str:
        from scing_core.data.synthped import generate_synthped, synthped_state   # here: see is_done

        previous = synthped_state(self.folder)
        params = self.parameters()
        generate_synthped(self.folder, ids=params["ids"], images_per_id=params["images_per_id"], cams=params["cams"],
                          size=tuple(params["size"]), occluded=params["occluded"], seed=params["seed"],
                          distractors=params["distractors"], identity_seed=params["identity_seed"],
                          progress=lambda done, total: reporter.count(done, total, f"{done}/{total} images"),
                          overwrite=previous is not None)
        return "resumed" if previous == "incomplete" else "ran"


class SynthClipStep(Step):
    """Pre-train SynthCLIP on SynthPed captions of people disjoint from the demo's (cached)."""

    name = "synthclip"
    title = "SynthCLIP pre-training"

    def __init__(self, layout: SynthLayout, data: SynthData) -> None:
        self.layout, self.settings = layout, data

    def expected_seconds(self) -> float:
        return SYNTHCLIP_SECONDS[self.settings.quick]

    def unavailable_reason(self) -> str:
        if importlib.util.find_spec("scing_core.pretrain.synthclip") is None:
            return "scing_core.pretrain.synthclip is not installed"
        return ""

    def is_done(self) -> bool:
        return self.layout.synthclip.is_file() and read_json(self.layout.synthclip_metrics) is not None

    def run(self, reporter: StepReporter) -> str:
        from scing_core.pretrain.synthclip import train_synthclip   # here: torch; see is_done

        resumed = self.layout.synthclip.exists() or self.layout.synthclip_data.exists()
        self.layout.synthclip.parent.mkdir(parents=True, exist_ok=True)
        train_synthclip(str(self.layout.synthclip), seed=self.settings.seed, data_dir=str(self.layout.synthclip_data),
                        quick=self.settings.quick, ids=self.settings.synthclip_ids,
                        epochs=self.settings.synthclip_epochs, progress=_fraction_callback(reporter))
        return "resumed" if resumed else "ran"


def _fraction_callback(reporter: StepReporter):
    """Adapt ``progress(done, total[, ...])`` or ``progress(fraction)`` calls to the reporter."""

    def progress(*args, **kwargs):
        if len(args) >= 2 and isinstance(args[0], (int, float)) and isinstance(args[1], (int, float)):
            reporter.count(int(args[0]), int(args[1]), str(args[2]) if len(args) > 2 else "")
        elif args and isinstance(args[0], (int, float)):
            reporter.fraction(float(args[0]))
        elif args and isinstance(args[0], dict) and "fraction" in args[0]:
            reporter.fraction(float(args[0]["fraction"]))

    return progress


def synth_steps(layout: SynthLayout, data: SynthData) -> list[Step]:
    """SynthPed, SynthPed-Occluded and SynthCLIP, in build order."""
    return [SynthPedStep(layout, data, "holistic"), SynthPedStep(layout, data, "occluded"), SynthClipStep(layout, data)]
