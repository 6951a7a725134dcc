"""Our own zoo format: a directory of ``part-NNNNN.pt`` files (lists of networks) and ``info.json``.

Parts let a large zoo be written in independent pieces (one per machine or shard index) and read as a
stream. Each network is stored as plain tensors and JSON-like values (loadable with ``weights_only``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import torch

from scalegmn.io import atomic_file, write_json
from scalegmn.weights import NetworkWeights

INFO_FILE = "info.json"
ZOO_KIND = "zoo"  # the output kind of our zoo directories (scalegmn.io.atomic_dir)
FORMAT_VERSION = 1


def network_to_record(net: NetworkWeights) -> dict[str, Any]:
    return {
        "weights": [w.contiguous() for w in net.weights],
        "biases": [b.contiguous() for b in net.biases],
        "activation": net.activation,
        "strides": list(net.strides),
        "paddings": list(net.paddings),
        "pooling": net.pooling,
        "w0": net.w0,
        "output_offset": net.output_offset,
        "leaky_slope": net.leaky_slope,
        "meta": json.dumps(net.meta, sort_keys=True),
    }


def network_from_record(record: dict[str, Any]) -> NetworkWeights:
    return NetworkWeights(
        record["weights"],
        record["biases"],
        record["activation"],
        strides=record["strides"],
        paddings=record["paddings"],
        pooling=record["pooling"],
        w0=record["w0"],
        output_offset=record["output_offset"],
        leaky_slope=record["leaky_slope"],
        meta=json.loads(record["meta"]),
    )


def write_part(directory: str | Path, index: int, nets: Iterable[NetworkWeights]) -> Path:
    """Write one part file atomically; returns its path."""
    path = Path(directory) / f"part-{index:05d}.pt"
    with atomic_file(path) as tmp:
        torch.save([network_to_record(n) for n in nets], tmp)
    return path


def save_zoo(path: str | Path, nets: Iterable[NetworkWeights], info: dict[str, Any], part_size: int = 1024) -> int:
    """Write ``nets`` as a zoo directory (parts of ``part_size`` networks) with ``info.json``; returns the count.

    ``info.json`` is written last, so a directory without it is an incomplete zoo.
    """
    directory = Path(path)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / INFO_FILE).unlink(missing_ok=True)
    for old in directory.glob("part-*.pt"):
        old.unlink()
    count, part, buffer = 0, 0, []
    for net in nets:
        buffer.append(net)
        count += 1
        if len(buffer) == part_size:
            write_part(directory, part, buffer)
            part, buffer = part + 1, []
    if buffer:
        write_part(directory, part, buffer)
    write_json(directory / INFO_FILE, {"format": "scalegmn-zoo", "format_version": FORMAT_VERSION, "size": count, **info})
    return count


def read_info(path: str | Path) -> dict[str, Any]:
    """The ``info.json`` of one of our zoos (error naming the file if missing or not ours)."""
    info_path = Path(path) / INFO_FILE
    if not info_path.is_file():
        raise ValueError(f"{info_path}: missing; {path} is not a complete scalegmn zoo")
    try:
        info = json.loads(info_path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{info_path}: not valid JSON ({err})") from None
    if info.get("format") != "scalegmn-zoo" or info.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{info_path}: not a scalegmn zoo of format version {FORMAT_VERSION}")
    return info


def iter_zoo(path: str | Path) -> Iterator[NetworkWeights]:
    """Stream the networks of one of our zoo directories, part by part."""
    info = read_info(path)
    count = 0
    for part in sorted(Path(path).glob("part-*.pt")):
        try:
            records = torch.load(part, weights_only=True)
        except Exception as err:  # torch raises several types for corrupt files
            raise ValueError(f"{part}: unreadable zoo part ({err})") from None
        for record in records:
            try:
                yield network_from_record(record)
            except ValueError as err:
                raise ValueError(f"{part}: network {count}: {err}") from None
            count += 1
    if count != info["size"]:
        raise ValueError(f"{Path(path) / INFO_FILE}: says {info['size']} networks but the parts hold {count}")
