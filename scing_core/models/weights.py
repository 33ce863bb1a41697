"""Weight sources for a :class:`ClipBackbone`: open_clip tags or local files, kept apart from building.

A local file may hold a raw state_dict, or a dict with a ``"state_dict"`` / ``"model"`` entry (a
SynthCLIP or training checkpoint); ``module.`` prefixes (DataParallel) are stripped, and state
dicts of a whole ``ReIDModel`` (``backbone.*``) or of a ``ClipBackbone`` (``clip.*``) are accepted.
Files are read with ``torch.load(weights_only=True)``; ``.safetensors`` through safetensors; an
OpenAI TorchScript archive through ``torch.jit.load``. The image positional embedding is resized to
the backbone's grid, whatever grid the weights were saved at.
"""

from __future__ import annotations

import logging
import pickle
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import open_clip
import torch
from safetensors.torch import load_file

from scing_core.config.checks import CHOICES
from scing_core.errors import CheckpointError, ConfigError
from scing_core.models.archs import arch_config
from scing_core.models.pos_embed import infer_grid, resize_grid_embedding

log = logging.getLogger(__name__)

WEIGHT_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt", ".safetensors")
BACKBONE_EXTRAS = ("sie_embed", "pos_grid")  # ClipBackbone entries outside the CLIP model
LEGACY_KEYS = ("input_resolution", "context_length", "vocab_size")  # OpenAI JIT state_dict extras
EXAMPLES = 3


ACTIVATIONS = CHOICES["model.activation"]   # "auto" = what the weights imply


@dataclass(frozen=True)
class WeightsFile:
    """A weights file read once: its tensors, and the activation its own contents imply (None: no sign)."""

    state: dict[str, torch.Tensor]
    activation: str | None = None
    reason: str = ""


def tag_uses_quick_gelu(arch: str, source: str) -> bool:
    """True when ``source`` is an open_clip tag of ``arch`` trained with QuickGELU (OpenAI's)."""
    if Path(source).expanduser().is_file():
        return False
    return bool(open_clip.get_pretrained_cfg(arch, source).get("quick_gelu", False))


def arch_uses_quick_gelu(arch: str) -> bool:
    """True when the architecture's own config builds QuickGELU (e.g. open_clip's ``*-quickgelu`` names)."""
    return bool(arch_config(arch).get("quick_gelu", False))


def _quick_gelu_cache_names(arch: str) -> list[str]:
    """Folder / file names open_clip's cache gives the QuickGELU tags of ``arch`` (its OpenAI weights)."""
    names = []
    for tag in open_clip.list_pretrained_tags_by_model(arch):
        cfg = open_clip.get_pretrained_cfg(arch, tag)
        if not cfg.get("quick_gelu", False):
            continue
        hub = str(cfg.get("hf_hub") or "").strip("/")
        if hub:
            names += [hub.split("/")[-1], "models--" + hub.replace("/", "--")]
        url = str(cfg.get("url") or "")
        if url:
            names.append(url.rstrip("/").split("/")[-1])
    return [n for n in names if n]


def file_activation(arch: str, path: Path, contents: WeightsFile) -> tuple[str | None, str]:
    """The activation a local weights file implies, and why; ``(None, why not)`` when nothing says."""
    if contents.activation:
        return contents.activation, contents.reason
    names = _quick_gelu_cache_names(arch)
    if any(part in names for part in path.resolve().parts):
        return "quick_gelu", f"'{path}' sits in open_clip's cache of {arch}'s OpenAI weights"
    return None, f"nothing in '{path}' says QuickGELU (not an OpenAI archive or state-dict layout)"


def resolve_activation(arch: str, source: str, setting: str = "auto", contents: WeightsFile | None = None,
                       path: Path | None = None) -> tuple[str, str]:
    """``(activation, reason)`` of a backbone: ``setting`` unless "auto", then what the weights imply.

    "auto": an open_clip tag's own setting (OpenAI's tags: QuickGELU); a local file's record (a run
    checkpoint's, a SynthCLIP file's), an OpenAI TorchScript archive or OpenAI state-dict layout
    (QuickGELU), a file in open_clip's cache of OpenAI weights (QuickGELU); otherwise the
    architecture's own (GELU for every project and reference architecture).
    """
    if setting not in ACTIVATIONS:
        raise ConfigError(f"model.activation = {setting!r} is not one of {', '.join(ACTIVATIONS)}")
    arch_quick = arch_uses_quick_gelu(arch)
    if setting == "gelu" and arch_quick:
        raise ConfigError(f"model.activation = 'gelu' contradicts architecture '{arch}', whose config builds QuickGELU; "
                          "choose the architecture without '-quickgelu', or model.activation=auto")
    if setting != "auto":
        return setting, "model.activation"
    if arch_quick:
        return "quick_gelu", f"architecture '{arch}' builds QuickGELU"
    if not source:
        return "gelu", "random initialisation"
    if path is None and not Path(source).expanduser().is_file():
        quick = tag_uses_quick_gelu(arch, source)
        return ("quick_gelu" if quick else "gelu"), f"open_clip tag '{source}' of {arch}"
    path = path or Path(source).expanduser()
    activation, reason = file_activation(arch, path, contents or read_weights(path))
    if activation is None:
        return "gelu", reason + "; if these are OpenAI's CLIP weights, set model.activation=quick_gelu"
    return activation, reason


def resolve_source(arch: str, source: str) -> Path:
    """The local file behind ``source``: the file itself, or open_clip's cached download of a tag."""
    path = Path(source).expanduser()
    if path.is_file():
        return path
    tag_cfg = open_clip.get_pretrained_cfg(arch, source)
    if tag_cfg:
        try:
            return Path(open_clip.download_pretrained(tag_cfg))
        except Exception as exc:  # network, hub or cache failure: say what and how to work around it
            raise CheckpointError(
                f"could not fetch the open_clip weights '{source}' for {arch} ({type(exc).__name__}: {exc}); "
                "when offline, download them once elsewhere and pass the local file as model.pretrained (a file "
                "outside open_clip's cache holding OpenAI's weights in open_clip's layout also needs "
                "model.activation=quick_gelu)"
            ) from exc
    if path.exists():
        raise CheckpointError(f"weights source '{source}' is a directory; pass a weights file")
    if path.suffix in WEIGHT_SUFFIXES or len(path.parts) > 1:
        raise CheckpointError(f"weights file '{source}' does not exist")
    tags = open_clip.list_pretrained_tags_by_model(arch)
    known = f"its open_clip tags: {', '.join(tags)}" if tags else f"{arch} has no open_clip tags, pass a file"
    raise CheckpointError(f"'{source}' is neither a weights file nor an open_clip tag of {arch} ({known})")


def _is_torchscript(path: Path) -> bool:
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return any(name.endswith("constants.pkl") or "/code/" in name for name in archive.namelist())


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Read a weights file into a flat ``{name: tensor}`` dict, or raise a CheckpointError saying why not."""
    return read_weights(path).state


def read_weights(path: Path) -> WeightsFile:
    """Read a weights file once: its flat state dict and the activation its contents record or imply."""
    path = Path(path)
    try:
        if path.suffix == ".safetensors":
            obj, torchscript = load_file(str(path), device="cpu"), False
        elif _is_torchscript(path):
            obj, torchscript = torch.jit.load(str(path), map_location="cpu").state_dict(), True
        else:
            obj, torchscript = torch.load(path, map_location="cpu", weights_only=True), False
    except pickle.UnpicklingError as exc:
        raise CheckpointError(
            f"'{path}' holds Python objects besides tensors, which weights-only loading refuses; "
            "re-save it as a plain state_dict (torch.save(model.state_dict(), path))"
        ) from exc
    except Exception as exc:
        raise CheckpointError(f"'{path}' is not a PyTorch weights file ({type(exc).__name__}: {exc})") from exc
    state = _unwrap(obj, path)
    activation, reason = _recorded_activation(obj, state, torchscript, path)
    return WeightsFile(state, activation, reason)


def _recorded_activation(obj, state: dict, torchscript: bool, path: Path) -> tuple[str | None, str]:
    """What the file itself says of its activation: a record, or OpenAI's own formats (QuickGELU)."""
    if torchscript:
        return "quick_gelu", f"'{path}' is an OpenAI TorchScript archive"
    if isinstance(obj, Mapping):
        recorded = obj.get("activation")
        config = obj.get("config")
        if recorded is None and isinstance(config, Mapping) and isinstance(config.get("model"), Mapping):
            recorded = config["model"].get("activation")
        if recorded in ("quick_gelu", "gelu"):
            return str(recorded), f"'{path}' records activation {recorded}"
    if any(key.split(".")[-1] in LEGACY_KEYS and key.count(".") <= 1 for key in state):
        return "quick_gelu", f"'{path}' has OpenAI's state-dict layout ({', '.join(LEGACY_KEYS)})"
    return None, ""


def _unwrap(obj: object, path: Path) -> dict[str, torch.Tensor]:
    if isinstance(obj, Mapping):
        for entry in ("state_dict", "model"):
            if isinstance(obj.get(entry), Mapping):
                obj = obj[entry]
                break
    if not isinstance(obj, Mapping) or not obj:
        raise CheckpointError(f"'{path}' holds a {type(obj).__name__}, not a state_dict of tensors")
    state = {str(k): v for k, v in obj.items() if isinstance(v, torch.Tensor)}
    if not state:
        keys = ", ".join(list(map(str, obj))[:EXAMPLES])
        raise CheckpointError(f"'{path}' holds no tensors (top-level keys: {keys}); expected a state_dict")
    return state


def normalise_keys(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Strip ``module.``; keep only ``backbone.*`` of a ReIDModel; strip ``clip.`` of a ClipBackbone."""
    state = {k[len("module."):] if k.startswith("module.") else k: v for k, v in state.items()}
    if any(k.startswith("backbone.") for k in state):
        state = {k[len("backbone."):]: v for k, v in state.items() if k.startswith("backbone.")}
    if any(k.startswith("clip.") for k in state):
        state = {k[len("clip."):] if k.startswith("clip.") else k: v for k, v in state.items()}
    for key in LEGACY_KEYS:
        state.pop(key, None)
    return state


def _resize_image_pos_embed(backbone, state: dict[str, torch.Tensor], saved_grid: torch.Tensor | None) -> None:
    key = "visual.positional_embedding" if backbone.is_vit else "visual.attnpool.positional_embedding"
    pos = state.get(key)
    if pos is None or pos.ndim != 2:
        return
    if saved_grid is not None and saved_grid.numel() == 2 and int(saved_grid.prod()) == pos.shape[0] - 1:
        old_grid = (int(saved_grid[0]), int(saved_grid[1]))
    else:
        old_grid = infer_grid(pos.shape[0] - 1, backbone.grid)
    if old_grid != tuple(backbone.grid):
        log.info("resizing the positional embedding from a %sx%s to a %sx%s grid", *old_grid, *backbone.grid)
        state[key] = resize_grid_embedding(pos, old_grid, backbone.grid)


def _mismatch_message(source: str, arch: str, missing: list, unexpected: list, reshaped: list) -> str:
    def examples(keys: list) -> str:
        return ", ".join(keys[:EXAMPLES]) + (", ..." if len(keys) > EXAMPLES else "")

    parts = []
    if missing:
        parts.append(f"{len(missing)} missing keys (e.g. {examples(missing)})")
    if unexpected:
        parts.append(f"{len(unexpected)} unexpected keys (e.g. {examples(unexpected)})")
    if reshaped:
        parts.append(f"{len(reshaped)} keys with other shapes (e.g. {examples(reshaped)})")
    return (
        f"weights '{source}' do not fit architecture {arch}: {'; '.join(parts)}. "
        "They were probably saved for another architecture: set model.arch to the one they were trained with."
    )


def load_state_into_backbone(backbone, state: dict[str, torch.Tensor], source: str) -> None:
    """Load a normalised state dict into ``backbone`` (strict on the CLIP model, lenient on SIE)."""
    sie = state.pop("sie_embed", None)
    saved_grid = state.pop("pos_grid", None)
    _resize_image_pos_embed(backbone, state, saved_grid)
    expected = backbone.clip.state_dict()
    for key in expected:  # BatchNorm counters are bookkeeping, not weights: keep the model's own
        if key.endswith("num_batches_tracked") and key not in state:
            state[key] = expected[key]
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    reshaped = [
        f"{k} {tuple(state[k].shape)} vs {tuple(expected[k].shape)}"
        for k in state
        if k in expected and state[k].shape != expected[k].shape
    ]
    if missing or unexpected or reshaped:
        raise CheckpointError(_mismatch_message(source, backbone.arch, missing, unexpected, reshaped))
    backbone.clip.load_state_dict(state, strict=True)
    if sie is not None and backbone.sie_embed is not None:
        if sie.shape == backbone.sie_embed.shape:
            with torch.no_grad():
                backbone.sie_embed.copy_(sie)
        else:
            log.warning("SIE table of shape %s in '%s' ignored (model has %s)", tuple(sie.shape), source,
                        tuple(backbone.sie_embed.shape))


def load_pretrained(backbone, source: str, contents: WeightsFile | None = None) -> None:
    """Load weights into ``backbone`` from an open_clip tag or a local file (see the module doc);
    ``contents``: the file already read (by :func:`read_weights`)."""
    path = resolve_source(backbone.arch, source)
    contents = contents or read_weights(path)
    state = normalise_keys(dict(contents.state))
    load_state_into_backbone(backbone, state, str(source))
    log.info("loaded %s weights from %s", backbone.arch, path)
