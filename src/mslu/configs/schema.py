"""Config sections as dataclasses: unknown keys (with a did-you-mean), types and ranges checked before a run
builds anything. A section class lists its keys with types and defaults; ``checks()`` adds ranges.

``validate_section(values, Section, "optim", source)`` returns the section as a plain dict (defaults filled
in) or raises :class:`ConfigError` naming the file and the dotted key.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import types
import typing
from typing import Any, Union


class ConfigError(ValueError):
    """A config value is unknown, of the wrong type or out of range; the message names file and key."""


def did_you_mean(key: str, known: typing.Iterable[str]) -> str:
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _type_ok(value: Any, hint: Any) -> bool:
    if hint is Any:
        return True
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        return any(_type_ok(value, h) for h in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if origin is list:
        (item,) = typing.get_args(hint) or (Any,)
        return isinstance(value, list) and all(_type_ok(v, item) for v in value)
    if origin is dict or hint is dict:
        return isinstance(value, dict)
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, hint)


def _type_name(hint: Any) -> str:
    if typing.get_origin(hint) in (Union, types.UnionType):
        return " or ".join(_type_name(h) for h in typing.get_args(hint))
    if hint is type(None):
        return "null"
    if typing.get_origin(hint) is list:
        return f"a list of {_type_name((typing.get_args(hint) or (Any,))[0])}"
    return getattr(hint, "__name__", str(hint))


@dataclasses.dataclass
class Section:
    """Base of the config sections; subclasses declare fields and may override :meth:`checks`."""

    def checks(self) -> typing.Iterator[tuple[str, str]]:
        """``(key, problem)`` for every out-of-range value."""
        return iter(())

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        return dataclasses.asdict(cls())


def validate_section(values: Any, schema: type[Section], name: str, source: str = "config",
                     extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """``values`` checked against ``schema`` (plus ``extra``: keys allowed with the type of their default);
    returns the section with defaults filled in."""
    where = f"{source}: {name}"
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise ConfigError(f"{where}: must be a mapping of keys, got {type(values).__name__}")
    values = dict(values)
    hints = typing.get_type_hints(schema)
    fields = {f.name for f in dataclasses.fields(schema)}
    extra = extra or {}
    known = fields | set(extra)
    for key, value in values.items():
        if key not in known:
            raise ConfigError(f"{where}.{key}: unknown key{did_you_mean(str(key), known)}; "
                              f"known: {', '.join(sorted(known))}")
        if key in fields:
            hint = hints[key]
            if isinstance(value, str) and _type_ok(1.0, hint) and not _type_ok(value, hint):
                try:  # YAML 1.1 reads 5e-4 (no dot) as a string
                    value = values[key] = float(value)
                except ValueError:
                    pass
            ok = _type_ok(value, hint)
        else:
            default = extra[key]
            hint = type(default) if default is not None else Any
            ok = default is None or _type_ok(value, hint) or value is None
        if not ok:
            raise ConfigError(f"{where}.{key}: expected {_type_name(hint)}, got {value!r}")
        numbers = value if isinstance(value, list) else [value]
        if any(isinstance(v, float) and not math.isfinite(v) for v in numbers):
            raise ConfigError(f"{where}.{key}: must be a finite number, got {value!r}")
    section = schema(**{k: v for k, v in values.items() if k in fields})
    for key, problem in section.checks():
        raise ConfigError(f"{where}.{key}: {problem}, got {getattr(section, key)!r}")
    out = dataclasses.asdict(section)
    out.update({k: values.get(k, v) for k, v in extra.items()})
    return out


def positive(value: float | None) -> bool:
    return value is None or value > 0


def non_negative(value: float | None) -> bool:
    return value is None or value >= 0
