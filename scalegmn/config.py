"""Typed settings: config dataclasses built from mappings (a ``params.yaml`` section, ``--config key=value``
overrides) by :func:`from_mapping`, which refuses unknown keys (suggesting the closest known one), checks
every value against its field's type hint and names where the values came from in every error.

Range checks stay with each dataclass (its ``__post_init__``); :func:`from_mapping` prefixes their
messages with the origin as well.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml

T = TypeVar("T")


class ConfigError(ValueError):
    """A setting that is unknown, of the wrong type or out of range; the message names where it came from."""


def did_you_mean(key: str, known: list[str]) -> str:
    """`` (did you mean 'x'?)`` for the known name closest to ``key``, or ``""``."""
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_keys(values: Mapping[str, Any], known: list[str], where: str, what: str = "option") -> None:
    """``ConfigError`` naming ``where`` for the first key of ``values`` not in ``known``."""
    for key in values:
        if key not in known:
            raise ConfigError(f"{where}: unknown {what} {key!r}{did_you_mean(str(key), known)}; "
                              f"known: {', '.join(known)}")


_SCALARS: dict[type, tuple[tuple[type, ...], str]] = {  # field type: accepted value types, their name
    bool: ((bool,), "true or false"),
    int: ((int,), "an integer"),
    float: ((int, float), "a number"),
    str: ((str,), "a string"),
    Path: ((str, Path), "a path"),
}


def _name(hint: Any) -> str:
    if isinstance(hint, type):
        return hint.__name__
    return str(hint).replace("typing.", "")


def coerce(value: Any, hint: Any, where: str) -> Any:
    """``value`` checked against type ``hint`` (lists become tuples for tuple fields; YAML's ``1e-8``, read
    as a string, becomes a float for a float field); ``ConfigError`` naming ``where`` otherwise."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        for arg in (a for a in args if a is not type(None)):
            try:
                return coerce(value, arg, where)
            except ConfigError:
                continue
        raise ConfigError(f"{where}: expected {_name(hint)}, got {value!r}")
    if origin is typing.Literal:
        if value not in args:
            raise ConfigError(f"{where}: expected one of {', '.join(map(repr, args))}, got {value!r}")
        return value
    if origin is tuple or origin is list:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(value) != len(args):
                raise ConfigError(f"{where}: expected {len(args)} values, got {len(value)}: {value!r}")
            items = [coerce(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args))]
        else:
            item = args[0] if args else Any
            items = [coerce(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if is_dataclass(hint) and isinstance(hint, type):
        if isinstance(value, hint):
            return value
        return from_mapping(hint, value, where)
    if origin is dict or hint is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return dict(value)
    if hint in _SCALARS:
        accepted, what = _SCALARS[hint]
        if hint is float and isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                pass
        if not isinstance(value, accepted) or (isinstance(value, bool) and hint is not bool):
            raise ConfigError(f"{where}: expected {what}, got {value!r}")
        return hint(value)
    return value


def from_mapping(cls: type[T], values: Mapping[str, Any] | None, where: str) -> T:
    """An instance of dataclass ``cls`` from ``values`` (missing keys take the defaults); every problem is a
    :class:`ConfigError` whose message starts with ``where`` (e.g. ``params.yaml: shard``)."""
    assert is_dataclass(cls)
    if values is None:
        values = {}
    if not isinstance(values, Mapping):
        raise ConfigError(f"{where}: expected a mapping of {cls.__name__} options, got {values!r}")
    known = [f.name for f in fields(cls) if f.init]
    check_keys(values, known, where)
    hints = typing.get_type_hints(cls)
    typed = {k: coerce(v, hints[k], f"{where}: {k}") for k, v in values.items()}
    try:
        return cls(**typed)
    except (ValueError, TypeError) as err:  # the dataclass's own range checks
        raise ConfigError(f"{where}: {err}") from None


def read_section(path: str | Path, name: str) -> Any:
    """Top-level section ``name`` of YAML file ``path``; :class:`ConfigError` naming the file if it cannot be
    read or parsed or has no such section."""
    try:
        data = yaml.safe_load(Path(path).read_text())
    except OSError as err:
        raise ConfigError(f"{path}: cannot read ({err.strerror or err})") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML ({err})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of sections, got {type(data).__name__}")
    if name not in data:
        raise ConfigError(f"{path}: no section {name!r}{did_you_mean(name, [str(k) for k in data])}")
    return data[name]


def split_mapping(values: Mapping[str, Any] | None, classes: tuple[type, ...], where: str) -> list[dict[str, Any]]:
    """Split one mapping into the options of each dataclass of ``classes`` (a section that configures
    several); :class:`ConfigError` for a key none of them knows."""
    values = values or {}
    if not isinstance(values, Mapping):
        raise ConfigError(f"{where}: expected a mapping, got {values!r}")
    names = [[f.name for f in fields(cls) if f.init] for cls in classes]
    check_keys(values, [n for group in names for n in group], where)
    return [{k: v for k, v in values.items() if k in group} for group in names]
