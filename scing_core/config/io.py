"""YAML io for the config: presets, composition, dotted ``key=value`` overrides, validation.

Resolution order: dataclass defaults < preset YAML(s) < overrides. A preset is a YAML file, or a name
``DATASET/METHOD[/VARIANT]`` composed from ``resources/configs/{datasets,methods,variants}/*.yaml``.
A YAML file may list others to start from under ``_base_`` (paths relative to it).
"""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path
from typing import Any, Iterable

import yaml

from scing_core.atomic import write_text_atomic
from scing_core.config.checks import check_config
from scing_core.config.schema import TrainConfig
from scing_core.errors import ConfigError
from scing_core.registry import suggest
from scing_core.resources import resources_dir

BASE_KEY = "_base_"


def to_dict(cfg) -> dict:
    """Plain nested dict (tuples as lists) — what config.yaml and checkpoints store."""

    def plain(v):
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        return v

    return plain(dataclasses.asdict(cfg))


def valid_keys(cls=TrainConfig, prefix: str = "") -> list[str]:
    """Every dotted leaf key of the schema, e.g. ``model.method``."""
    keys = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        kind = hints[f.name]
        if dataclasses.is_dataclass(kind):
            keys += valid_keys(kind, f"{prefix}{f.name}.")
        else:
            keys.append(prefix + f.name)
    return keys


def _coerce(value: Any, kind, key: str):
    origin = typing.get_origin(kind)
    if origin is tuple:
        if isinstance(value, (int, float, str)) and not isinstance(value, bool):
            value = [value]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"config key '{key}' expects a list, got {value!r}")
        args = typing.get_args(kind)
        item = args[0] if args else Any
        items = [_coerce(v, item, key) for v in value] if item is not Any else list(value)
        if len(args) > 1 and args[1] is not Ellipsis and len(items) != len(args):
            raise ConfigError(f"config key '{key}' expects {len(args)} values, got {len(items)}: {value!r}")
        return tuple(items)
    if kind is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"config key '{key}' expects true/false, got {value!r}")
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise ConfigError(f"config key '{key}' expects an integer, got {value!r}")
        return value
    if kind is float:
        if isinstance(value, str):  # YAML 1.1 reads "1e-2" as a string
            try:
                return float(value)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"config key '{key}' expects a number, got {value!r}")
        return float(value)
    if kind is str:
        if isinstance(value, bool):  # YAML 1.1 reads off / on / no / yes as booleans: amp=off means "off"
            return "on" if value else "off"
        return "" if value is None else str(value)
    return value


def from_dict(data: dict, cls=TrainConfig, prefix: str = ""):
    """Build a (nested) frozen config from a dict, rejecting unknown keys with a suggestion."""
    if not isinstance(data, dict):
        raise ConfigError(f"config section '{prefix.rstrip('.') or '<root>'}' must be a mapping, got {data!r}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in data.items():
        dotted = prefix + str(key)
        if key not in names:
            raise ConfigError(f"unknown config key '{dotted}'.{suggest(dotted, valid_keys())} See `scing train --print-config`.")
        kind = hints[key]
        kwargs[key] = from_dict(value, kind, dotted + ".") if dataclasses.is_dataclass(kind) else _coerce(value, kind, dotted)
    return cls(**kwargs)


def deep_merge(base: dict, update: dict) -> dict:
    out = dict(base)
    for key, value in update.items():
        out[key] = deep_merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def read_yaml(path: Path, _chain: tuple[Path, ...] = ()) -> dict:
    """A YAML mapping with its ``_base_`` files merged underneath (paths relative to it)."""
    resolved = Path(path).resolve()
    if resolved in _chain:
        loop = " -> ".join(p.name for p in (*_chain, resolved))
        raise ConfigError(f"config file '{path}' includes itself through _base_ ({loop}); remove that _base_ entry")
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file '{path}' is not valid YAML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file '{path}': {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file '{path}' is not UTF-8 text; restore it or write a new one") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file '{path}' must hold a mapping of keys, not {type(data).__name__}")
    bases = data.pop(BASE_KEY, [])
    merged: dict = {}
    for base in [bases] if isinstance(bases, str) else bases:
        merged = deep_merge(merged, read_yaml(Path(path).parent / base, (*_chain, resolved)))
    return deep_merge(merged, data)


def presets_root() -> Path:
    """The folder of the preset YAMLs (``datasets/``, ``methods/``, ``variants/``)."""
    root = resources_dir() / "configs"
    if not (root / "datasets").is_dir():
        raise ConfigError(f"config presets not found: '{root}' has no datasets/ folder. This installation lacks "
                          "the project's resources/; reinstall scing-studio, or set SCING_RESOURCES to a folder "
                          "holding configs/{datasets,methods,variants}")
    return root


def list_presets() -> list[str]:
    """Composable preset names: ``dataset/method`` for every dataset and method YAML, plus variants."""
    root = presets_root()
    datasets = sorted(p.stem for p in (root / "datasets").glob("*.yaml"))
    methods = sorted(p.stem for p in (root / "methods").glob("*.yaml"))
    variants = sorted(p.stem for p in (root / "variants").glob("*.yaml"))
    names = [f"{d}/{m}" for d in datasets for m in methods]
    return names + [f"DATASET/METHOD/{v}" for v in variants]  # variants stack: a/b/quick/pdca_off


def preset_dict(name: str) -> dict:
    """Resolve a preset name (``dataset/method[/variant...]``) or a YAML path to a dict."""
    path = Path(name).expanduser()
    if path.suffix in (".yaml", ".yml") or path.is_file():
        if not path.is_file():
            raise ConfigError(f"config file '{path}' does not exist")
        return read_yaml(path)
    parts = name.split("/")
    root = presets_root()
    if len(parts) < 2:
        raise ConfigError(f"preset '{name}' is neither a YAML file nor DATASET/METHOD[/VARIANT...]; see `scing train --list-presets`")
    kinds = ["datasets", "methods"] + ["variants"] * (len(parts) - 2)
    merged: dict = {}
    for kind, part in zip(kinds, parts):
        file = root / kind / f"{part}.yaml"
        if not file.is_file():
            choices = sorted(p.stem for p in (root / kind).glob("*.yaml"))
            raise ConfigError(f"unknown {kind[:-1]} '{part}' in preset '{name}'.{suggest(part, choices)} Valid: {', '.join(choices)}")
        merged = deep_merge(merged, read_yaml(file))
    return merged


def parse_overrides(overrides: Iterable[str]) -> dict:
    """``["model.method=scing", "stage1.epochs=2"]`` -> nested dict (values parsed as YAML scalars)."""
    out: dict = {}
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override '{item}' must look like key=value, e.g. stage1.epochs=10")
        key, raw = item.split("=", 1)
        key = key.strip()
        if key not in valid_keys():
            raise ConfigError(f"unknown config key '{key}'.{suggest(key, valid_keys())} See `scing train --print-config`.")
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        node = out
        *parents, leaf = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return out


def resolve_config(preset: str | None = None, overrides: Iterable[str] = (), base: dict | None = None) -> TrainConfig:
    """defaults < ``base`` dict (e.g. a run's saved config) < preset < overrides."""
    data = dict(base or {})
    if preset:
        data = deep_merge(data, preset_dict(preset))
    data = deep_merge(data, parse_overrides(overrides))
    return check_config(from_dict(data))


def dump_yaml(cfg: TrainConfig) -> str:
    return yaml.safe_dump(to_dict(cfg), sort_keys=False)


def save_config(cfg: TrainConfig, path) -> None:
    """Write the resolved config atomically."""
    write_text_atomic(path, dump_yaml(cfg))


def load_config(path) -> TrainConfig:
    return check_config(from_dict(read_yaml(Path(path))))
