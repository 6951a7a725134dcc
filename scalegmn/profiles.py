"""Parameter profiles: ``params.yaml`` is the default profile; ``profiles/<name>.yaml`` overlays change it.

An overlay is a partial params file; applying it deep-merges it into the default (mappings merge key by
key, everything else is replaced) and records ``profile: <name>``.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from scalegmn.io import write_text

DEFAULT_PROFILE = "default"


def deep_merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``overlay`` merged in (nested mappings merged, other values replaced)."""
    out = copy.deepcopy(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _load_mapping(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except yaml.YAMLError as err:
        raise ValueError(f"{path}: not valid YAML ({err})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: must hold a mapping of parameters")
    return data


def available_profiles(profiles_dir: str | Path = "profiles") -> list[str]:
    return [DEFAULT_PROFILE] + sorted(p.stem for p in Path(profiles_dir).glob("*.yaml"))


def resolve_profile(name: str, params: str | Path = "params.yaml", profiles_dir: str | Path = "profiles") -> dict[str, Any]:
    """The parameters of profile ``name``: the default ``params`` with ``profiles_dir/<name>.yaml`` merged in.

    Raises ``ValueError`` if ``params`` is not the default profile (apply overlays to the default only),
    if the overlay is missing, or if it introduces keys the default does not have (a typo would otherwise
    be ignored silently).
    """
    base = _load_mapping(Path(params))
    if base.get("profile", DEFAULT_PROFILE) != DEFAULT_PROFILE:
        raise ValueError(
            f"{params}: holds profile {base['profile']!r}, not the default; restore it first "
            f"(e.g. `git checkout {params}`)"
        )
    if name == DEFAULT_PROFILE:
        return base
    overlay_path = Path(profiles_dir) / f"{name}.yaml"
    if not overlay_path.is_file():
        raise ValueError(f"{overlay_path}: no such profile; available: {', '.join(available_profiles(profiles_dir))}")
    overlay = _load_mapping(overlay_path)
    _check_known_keys(base, overlay, overlay_path, prefix="")
    return deep_merge(base, overlay) | {"profile": name}


def _check_known_keys(base: dict[str, Any], overlay: dict[str, Any], where: Path, prefix: str) -> None:
    for key, value in overlay.items():
        if key not in base:
            raise ValueError(f"{where}: unknown parameter {prefix}{key} (not in the default params.yaml)")
        if isinstance(value, dict) and isinstance(base[key], dict) and not _is_open_table(prefix + key):
            _check_known_keys(base[key], value, where, prefix=f"{prefix}{key}.")


def _is_open_table(key: str) -> bool:
    """Tables whose entries are names (zoos, tasks, methods): a profile may add new ones."""
    return key in {"zoos", "zoo", "train.tasks", "train.methods", "train.datasets"}


def apply_profile(name: str, params: str | Path = "params.yaml", profiles_dir: str | Path = "profiles") -> dict[str, Any]:
    """Rewrite ``params`` (atomically) as profile ``name``; returns the parameters written."""
    values = resolve_profile(name, params, profiles_dir)
    header = f"# Profile {name!r}: the default params.yaml with profiles/{name}.yaml merged in " \
             f"(`scalegmn profile {name}`). Restore the default with `git checkout params.yaml`.\n"
    write_text(params, header + yaml.safe_dump(values, sort_keys=False, width=120))
    return values
