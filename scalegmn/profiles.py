"""Parameter profiles: ``params.yaml`` is the default profile; ``profiles/<name>.yaml`` overlays change it.

An overlay is a partial params file; resolving it deep-merges it into the default (mappings merge key by
key, everything else is replaced) and records ``profile: <name>``. :func:`profile_overrides` turns a
profile into DVC's ``-S key=value`` overrides of the current params file, so ``dvc exp run -S ...`` runs it
as an experiment and DVC edits ``params.yaml`` in place, keeping its comments.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

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


def load_params(path: str | Path) -> dict[str, Any]:
    """The mapping in YAML file ``path``; ``ValueError`` naming the file otherwise."""
    path = Path(path)
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


def resolve_profile(name: str, base: dict[str, Any], profiles_dir: str | Path = "profiles") -> dict[str, Any]:
    """The parameters of profile ``name``: the default params ``base`` with ``profiles_dir/<name>.yaml``
    merged in.

    Raises ``ValueError`` if ``base`` is not the default profile (overlays apply to the default only), if
    the overlay is missing, or if it introduces keys the default does not have (a typo would otherwise be
    ignored silently).
    """
    if base.get("profile", DEFAULT_PROFILE) != DEFAULT_PROFILE:
        raise ValueError(f"the base params hold profile {base['profile']!r}, not the default")
    if name == DEFAULT_PROFILE:
        return copy.deepcopy(base)
    overlay_path = Path(profiles_dir) / f"{name}.yaml"
    if not overlay_path.is_file():
        raise ValueError(f"{overlay_path}: no such profile; available: {', '.join(available_profiles(profiles_dir))}")
    overlay = load_params(overlay_path)
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
    return key in {"zoos", "zoo", "train.tasks", "train.methods", "train.runs"}


def _leaves(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Dotted key → value of every non-mapping value (lists are leaves)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict) and value:
            out |= _leaves(value, f"{prefix}{key}.")
        else:
            out[f"{prefix}{key}"] = value
    return out


def _flow(value: Any) -> str:
    """``value`` as one-line YAML without spaces (one shell word, as DVC's ``-S`` parses it)."""
    text = yaml.safe_dump(value, default_flow_style=True, width=10**6).strip()
    if text.endswith("\n..."):
        text = text[: -len("\n...")]
    return text.replace(", ", ",").replace(": ", ":")


def profile_overrides(name: str, current: dict[str, Any], default: dict[str, Any],
                      profiles_dir: str | Path = "profiles") -> list[str]:
    """DVC ``-S`` overrides that turn the params ``current`` into profile ``name`` (resolved on the
    ``default`` params): ``++key=value`` for every leaf that differs or is missing, ``~key`` for what the
    profile does not have (its topmost missing key) and before ``++key={}`` for a table the profile empties."""
    target = _leaves(resolve_profile(name, default, profiles_dir))
    now = _leaves(current)
    kept = {".".join(key.split(".")[:i]) for key in target for i in range(1, key.count(".") + 2)}  # keys and prefixes
    # an empty table (``runs: {}``) is a leaf; DVC merges ``++key={}`` into a filled table, so one the profile
    # empties is removed first
    emptied = {key for key, value in target.items() if value == {} and any(k.startswith(f"{key}.") for k in now)}
    changed = []
    for key, value in target.items():
        if key in emptied:
            changed.append(f"~{key}")
        if key not in now or now[key] != value:
            changed.append(f"++{key}={_flow(value)}")
    # what the profile does not have goes whole (its topmost key the profile lacks), leaving no empty table behind;
    # not the entries of a table it empties (removed above), nor an empty table it fills
    removed = dict.fromkeys(_topmost_missing(key, kept) for key in now if key not in kept
                            and not any(key.startswith(f"{t}.") for t in target))
    return changed + [f"~{key}" for key in removed]


def _topmost_missing(key: str, kept: set[str]) -> str:
    """The shortest dotted prefix of ``key`` that is not in ``kept``."""
    parts = key.split(".")
    return next(".".join(parts[:i]) for i in range(1, len(parts) + 1) if ".".join(parts[:i]) not in kept)
