"""The configs shipped with mslu (``<task>/<setting>.yaml``) and how YAML configs are read.

A config may name the configs it builds on with ``base:`` (a path relative to the file, or a list of them,
applied left to right); its own keys are merged over them, mappings key by key. ``find_config`` accepts a
file path or a shipped config's name: ``islr/wlasl100`` is ``<package>/configs/islr/wlasl100.yaml``.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

CONFIG_ROOT = Path(__file__).resolve().parent


def yaml_problem(error: Exception) -> str:
    """A YAML (or reading) error in one line: the problem and where."""
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        return f"{error.problem or error.context or 'invalid YAML'}{where}"
    return " ".join(str(error).split())


def deep_update(base: dict[str, Any], upd: dict[str, Any] | None) -> dict[str, Any]:
    """``upd`` merged recursively into a copy of ``base``."""
    out = copy.deepcopy(base)
    for k, v in (upd or {}).items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_update(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def apply_override(cfg: dict[str, Any], assignment: str) -> None:
    """Apply ``"a.b.c=value"`` in place; the value is parsed as YAML (numbers, bools, lists, null)."""
    if "=" not in assignment:
        raise ValueError(f"override {assignment!r} is not of the form key.path=value")
    key, raw = assignment.split("=", 1)
    parts = key.strip().split(".")
    node = cfg
    for p in parts[:-1]:
        node = node.setdefault(p, {})
        if not isinstance(node, dict):
            raise ValueError(f"override {assignment!r}: {p!r} is not a section")
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError as e:
        raise ValueError(f"override {assignment!r}: value is not valid YAML ({yaml_problem(e)})") from e
    if isinstance(value, str):  # YAML 1.1 reads "5e-4" (no dot) as a string
        try:
            value = float(value)
        except ValueError:
            pass
    node[parts[-1]] = value


def available_configs() -> list[str]:
    """Names of the shipped configs (``islr/wlasl100``, ...), base files excluded."""
    return sorted(
        p.relative_to(CONFIG_ROOT).with_suffix("").as_posix()
        for p in CONFIG_ROOT.glob("*/*.yaml")
        if not p.parent.name.startswith("_")
    )


def find_config(name: str | Path) -> Path:
    """A config file by path, or a shipped config by name (``islr/wlasl100``, with or without ``.yaml``)."""
    path = Path(name)
    if path.is_file():
        return path
    shipped = CONFIG_ROOT / path
    for candidate in (shipped, shipped.with_name(shipped.name + ".yaml")):
        if candidate.is_file() and candidate.resolve().is_relative_to(CONFIG_ROOT):
            return candidate
    raise FileNotFoundError(f"config {name}: no such file, and not a shipped config "
                            f"(see `mslu configs`; e.g. {', '.join(available_configs()[:3])})")


def read_config_file(path: str | Path, _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """A YAML config as a dict, its ``base:`` configs merged under it; ``ValueError`` naming the file when it
    is unreadable, not a mapping, or its bases loop."""
    path = Path(path)
    if path.resolve() in _seen:
        raise ValueError(f"config {path}: `base:` loops back to itself")
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise ValueError(f"cannot read config {path}: {yaml_problem(e)}") from e
    if not isinstance(loaded, dict):
        raise ValueError(f"config {path} must be a mapping, got {type(loaded).__name__}")
    bases = loaded.pop("base", None) or []
    if isinstance(bases, str):
        bases = [bases]
    if not isinstance(bases, list) or not all(isinstance(b, str) for b in bases):
        raise ValueError(f"config {path}: `base:` must be a path or a list of paths")
    merged: dict[str, Any] = {}
    for b in bases:
        base_path = path.parent / b
        if not base_path.is_file():
            raise ValueError(f"config {path}: base {b!r} not found (looked for {base_path})")
        merged = deep_update(merged, read_config_file(base_path, (*_seen, path.resolve())))
    return deep_update(merged, loaded)
