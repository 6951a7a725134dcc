"""Our own zoo format: a directory of ``part-NNNNN.pt`` files (lists of networks) and ``info.json``.

Parts let a large zoo be written in independent pieces (one per machine or shard index) and read as a
stream. Each network is stored as plain tensors and JSON-like values (loadable with ``weights_only``).
``info.json`` (format version 2) lists every part with its network count, size and SHA-256, checked each
time the part is read; zoos of version 1 (no part list) are still read, unverified.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import torch

from scalegmn.io import atomic_dir, atomic_file, file_sha256, write_json
from scalegmn.core.weights import NetworkWeights

INFO_FILE = "info.json"
ZOO_KIND = "zoo"  # the output kind of our zoo directories (scalegmn.io.atomic_dir)
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)


def part_name(index: int) -> str:
    return f"part-{index:05d}.pt"


def part_entry(path: Path, networks: int) -> dict[str, Any]:
    """The ``info.json`` record of one part file: name, network count, bytes and SHA-256."""
    return {"file": path.name, "networks": networks, "bytes": path.stat().st_size, "sha256": file_sha256(path)}


def write_part(directory: str | Path, index: int, nets: list[NetworkWeights]) -> dict[str, Any]:
    """Write one part file atomically; returns its :func:`part_entry`."""
    path = Path(directory) / part_name(index)
    with atomic_file(path) as tmp:
        torch.save([n.to_dict() for n in nets], tmp)
    return part_entry(path, len(nets))


def write_info(directory: Path, info: dict[str, Any], parts: list[dict[str, Any]]) -> None:
    """Write ``info.json`` (format, version, size = total networks of ``parts``, ``info``, the part list)."""
    size = sum(p["networks"] for p in parts)
    write_json(directory / INFO_FILE, {**info, "format": "scalegmn-zoo", "format_version": FORMAT_VERSION,
                                       "size": size, "parts": parts})


def save_zoo(path: str | Path, nets: Iterable[NetworkWeights], info: dict[str, Any], part_size: int = 1024, *,
             overwrite: bool = False, inputs: Iterable[str | Path] = ()) -> int:
    """Write ``nets`` as a zoo directory (parts of ``part_size`` networks) with ``info.json``; returns the count.

    The directory is written under a temporary name and renamed into place (see
    :func:`scalegmn.io.atomic_dir` for ``overwrite`` and ``inputs``), ``info.json`` last.
    """
    with atomic_dir(path, ZOO_KIND, overwrite=overwrite, inputs=inputs) as directory:
        directory.mkdir()
        parts: list[dict[str, Any]] = []
        buffer: list[NetworkWeights] = []
        for net in nets:
            buffer.append(net)
            if len(buffer) == part_size:
                parts.append(write_part(directory, len(parts), buffer))
                buffer = []
        if buffer:
            parts.append(write_part(directory, len(parts), buffer))
        write_info(directory, info, parts)
    return sum(p["networks"] for p in parts)


def read_info(path: str | Path) -> dict[str, Any]:
    """The ``info.json`` of one of our zoos (error naming the file if missing or not ours)."""
    info_path = Path(path) / INFO_FILE
    if not info_path.is_file():
        raise ValueError(f"{info_path}: missing; {path} is not a complete scalegmn zoo")
    try:
        info = json.loads(info_path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{info_path}: not valid JSON ({err})") from None
    if info.get("format") != "scalegmn-zoo" or info.get("format_version") not in READABLE_VERSIONS:
        raise ValueError(f"{info_path}: not a scalegmn zoo of format version {' or '.join(map(str, READABLE_VERSIONS))}")
    if info["format_version"] >= 2:
        _check_part_list(info_path, info.get("parts"))
    return info


def _check_part_list(info_path: Path, parts: Any) -> None:
    """``ValueError`` naming ``info_path`` unless ``parts`` is a list of distinct :func:`part_entry` records."""
    fields = {"file": str, "networks": int, "bytes": int, "sha256": str}
    if not isinstance(parts, list):
        raise ValueError(f"{info_path}: format version 2 needs a 'parts' list, got {type(parts).__name__}")
    for i, entry in enumerate(parts):
        if not isinstance(entry, dict) or any(not isinstance(entry.get(k), t) for k, t in fields.items()):
            raise ValueError(f"{info_path}: parts[{i}] is not a {{file, networks, bytes, sha256}} record: {entry!r}")
    names = [p["file"] for p in parts]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"{info_path}: parts {repeated} are listed more than once")


def zoo_parts(path: str | Path, info: dict[str, Any]) -> list[tuple[Path, dict[str, Any] | None]]:
    """The part files of a zoo with their ``info.json`` records (``None`` for a version-1 zoo); a part on
    disk but not listed, or listed but missing, is a ``ValueError`` naming it."""
    root = Path(path)
    on_disk = sorted(p.name for p in root.glob("part-*.pt"))
    if info["format_version"] == 1:
        return [(root / name, None) for name in on_disk]
    listed = [p["file"] for p in info["parts"]]
    for name in sorted(set(on_disk) - set(listed)):
        raise ValueError(f"{root / name}: zoo part not listed in {root / INFO_FILE} (left over or copied in?)")
    for name in listed:
        if name not in on_disk:
            raise ValueError(f"{root / name}: zoo part listed in {root / INFO_FILE} is missing")
    return [(root / p["file"], p) for p in info["parts"]]


def check_part(part: Path, entry: dict[str, Any] | None) -> None:
    """``ValueError`` naming ``part`` if its size or SHA-256 differ from its ``info.json`` record."""
    if entry is None:
        return
    size = part.stat().st_size
    if size != entry["bytes"]:
        raise ValueError(f"{part}: {size} bytes but {INFO_FILE} says {entry['bytes']} (truncated or modified zoo part)")
    if file_sha256(part) != entry["sha256"]:
        raise ValueError(f"{part}: SHA-256 does not match {INFO_FILE} (corrupt zoo part)")


def iter_zoo(path: str | Path) -> Iterator[NetworkWeights]:
    """Stream the networks of one of our zoo directories, part by part, each part verified against
    ``info.json`` right before it is read."""
    info = read_info(path)
    count = 0
    for part, entry in zoo_parts(path, info):
        check_part(part, entry)
        try:
            records = torch.load(part, weights_only=True)
        except Exception as err:  # torch raises several types for corrupt files
            raise ValueError(f"{part}: unreadable zoo part ({err})") from None
        if entry is not None and len(records) != entry["networks"]:
            raise ValueError(f"{part}: holds {len(records)} networks but {INFO_FILE} says {entry['networks']}")
        for record in records:
            try:
                yield NetworkWeights.from_dict(record)
            except ValueError as err:
                raise ValueError(f"{part}: network {count}: {err}") from None
            count += 1
    if count != info["size"]:
        raise ValueError(f"{Path(path) / INFO_FILE}: says {info['size']} networks but the parts hold {count}")
