"""The demo workspace: where each part lives, which settings built it, and the step log.

```
WS/
  demo.json                   settings that built the workspace (mode, seed, sizes); a re-run must match
  demo-log.jsonl              one line per step per invocation: ran | resumed | skipped | unavailable | stopped
  data/, synthclip/           SynthPed, SynthPed-Occluded and SynthCLIP (scing_core.pipeline.synthetic)
  runs/{clipreid,cocoop,scing}/   ordinary run directories (config.yaml, events.jsonl, checkpoints/, eval/)
  figures/                    analysis figures (PNG + PDF) and their numbers (JSON)
  report.md                   the demo report
```
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from scing_core import atomic
from scing_core.atomic import write_text_atomic
from scing_core.errors import InputError
from scing_core.paths import default_demo_workspace
from scing_core.pipeline.steps import read_step_log as read_log_file
from scing_core.pipeline.synthetic import SynthData, SynthLayout

DEMO_VERSION = 1
METHODS = ("clipreid", "cocoop", "scing")


@dataclass(frozen=True)
class DemoSettings(SynthData):
    """Everything that decides what the demo builds: its data (:class:`SynthData`), the training
    budget and the figures' sizes."""

    variant: str = "demo"          # resources/configs/variants/<variant>.yaml: the training budget
    gap_ids: int = 30              # identities in the modality-gap figure
    saliency_images: int = 4       # rows of the saliency grid
    share_images: int = 48         # images behind the CAM person-share numbers
    robustness_fractions: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6)
    projection: str = "umap"       # modality-gap projection: umap | pca

    @classmethod
    def for_mode(cls, quick: bool, seed: int = 0) -> "DemoSettings":
        """The full demo (about 3.5 minutes on an idle 2-core CPU) or the quick one (under a minute)."""
        data = SynthData.for_mode(quick, seed).data_fields()
        if not quick:
            return cls(**data)
        return cls(**data, variant="demo_quick", gap_ids=12, saliency_images=3, share_images=16,
                   robustness_fractions=(0.0, 0.3, 0.6), projection="pca")

    def as_dict(self) -> dict:
        data = asdict(self)
        data["size"] = list(self.size)
        data["robustness_fractions"] = list(self.robustness_fractions)
        return data


@dataclass(frozen=True)
class DemoWorkspace(SynthLayout):
    """Paths inside a demo workspace (nothing is created until a step writes)."""

    @classmethod
    def at(cls, path=None) -> "DemoWorkspace":
        """``path`` (default: :func:`scing_core.paths.default_demo_workspace`), absolute."""
        if isinstance(path, DemoWorkspace):
            return path
        return cls(Path(path if path is not None else default_demo_workspace()).expanduser().resolve())

    manifest = property(lambda self: self.root / "demo.json")
    log = property(lambda self: self.root / "demo-log.jsonl")
    runs = property(lambda self: self.root / "runs")
    figures = property(lambda self: self.root / "figures")
    report = property(lambda self: self.root / "report.md")

    def run(self, method: str) -> Path:
        return self.runs / method

    def run_dirs(self) -> dict[str, Path]:
        return {m: self.run(m) for m in METHODS}

    # -------------------------------------------------------------------------------- settings
    def check_settings(self, settings: DemoSettings) -> None:
        """Refuse to mix a workspace built with other settings; record them in a new one."""
        wanted = {"version": DEMO_VERSION, **settings.as_dict()}
        if self.root.exists() and not self.root.is_dir():
            raise InputError(f"demo workspace '{self.root}' is a file, not a folder; choose a folder with --workspace")
        if self.manifest.is_file():
            try:
                found = json.loads(self.manifest.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                found = None
            if found != wanted:
                raise InputError(_mismatch_message(self.root, found, wanted))
            return
        if self.root.is_dir() and any(self.root.iterdir()) and not self.log.exists():
            raise InputError(f"demo workspace '{self.root}' is not empty and was not made by `scing demo`; "
                             "choose a new or empty folder with --workspace")
        write_text_atomic(self.manifest, json.dumps(wanted, indent=2) + "\n")


def _mismatch_message(root: Path, found: dict | None, wanted: dict) -> str:
    if not isinstance(found, dict):
        return f"demo workspace '{root}': demo.json is unreadable; delete the folder or choose another --workspace"
    keys = list(wanted)
    if found.get("quick") != wanted["quick"]:   # every size differs with the mode: name the mode (and the seed)
        keys = [k for k in ("version", "quick", "seed") if k in wanted]
    diffs = [f"{k}={found.get(k)!r} (now {wanted[k]!r})" for k in keys if found.get(k) != wanted[k]]
    again = "scing demo" + (" --quick" if found.get("quick") else "") + (f" --seed {found['seed']}" if found.get("seed") else "")
    return (f"demo workspace '{root}' was built with other settings: {', '.join(diffs)}. "
            f"Re-run with the same options (`{again}`), or choose another --workspace (or delete this one).")


def write_json_atomic(path: Path, data) -> None:
    """``data`` as sorted, indented JSON, written atomically."""
    atomic.write_json_atomic(path, data, sort_keys=True)


def read_step_log(workspace) -> list[dict]:
    """Every recorded step outcome of a workspace, oldest first (unreadable lines skipped)."""
    return read_log_file(DemoWorkspace.at(workspace).log)


def last_invocation(workspace) -> list[dict]:
    """The step outcomes of the most recent ``scing demo`` invocation on ``workspace``."""
    entries = read_step_log(workspace)
    if not entries:
        return []
    last = entries[-1]["invocation"]
    return [e for e in entries if e["invocation"] == last]
