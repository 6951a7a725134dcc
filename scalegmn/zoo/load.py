"""Any supported zoo directory: detect its format, stream its networks, summarise it, merge pieces."""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch

from scalegmn.io import atomic_dir
from scalegmn.core.weights import NetworkWeights
from scalegmn.zoo.format import INFO_FILE, ZOO_KIND, iter_zoo, part_entry, part_name, read_info, write_info, zoo_parts
from scalegmn.zoo.inr_readers import find_nfn_cifar_root, read_dws_inrs, read_nfn_cifar_inrs
from scalegmn.zoo.small_cnn_zoo import WEIGHTS_FILE, find_small_cnn_zoo, read_small_cnn_zoo
from scalegmn.zoo.summary import describe

FORMATS: tuple[str, ...] = ("scalegmn", "small-cnn-zoo", "nfn-cifar-inr", "dws-inr")


def detect_format(path: str | Path) -> str:
    """One of :data:`FORMATS`, decided by the directory's contents (error naming ``path`` otherwise)."""
    root = Path(path)
    if not root.is_dir():
        raise ValueError(f"{root}: not a directory")
    if (root / INFO_FILE).is_file() or any(root.glob("part-*.pt")):
        return "scalegmn"
    if (root / WEIGHTS_FILE).is_file() or any(root.glob(f"*/{WEIGHTS_FILE}")):
        return "small-cnn-zoo"
    try:
        find_nfn_cifar_root(root)
        return "nfn-cifar-inr"
    except ValueError:
        pass
    if next(root.rglob("*.pth"), None) is not None:
        return "dws-inr"
    raise ValueError(f"{root}: not a zoo (no info.json, {WEIGHTS_FILE}, randinit_smaller_* or .pth files)")


def load_networks(path: str | Path, **options: Any) -> Iterator[NetworkWeights]:
    """Stream the networks of any supported zoo directory; ``options`` go to the format's reader
    (:func:`read_small_cnn_zoo`, :func:`read_dws_inrs`, :func:`read_nfn_cifar_inrs`)."""
    fmt = detect_format(path)
    if fmt == "scalegmn":
        if options:
            raise ValueError(f"{path}: our zoo format takes no reader options, got {sorted(options)}")
        return iter_zoo(path)
    reader = {"small-cnn-zoo": read_small_cnn_zoo, "nfn-cifar-inr": read_nfn_cifar_inrs, "dws-inr": read_dws_inrs}[fmt]
    return reader(path, **options)


def zoo_info(path: str | Path, **options: Any) -> dict[str, Any]:
    """``name``, ``kind`` (``cnn``/``inr``), ``format``, ``size`` and, for other formats than ours (whose
    ``info.json`` is returned as is, plus ``format``), counts per split/activation and score/PSNR stats
    computed by reading the zoo."""
    fmt = detect_format(path)
    if fmt == "scalegmn":
        info = read_info(path)
        return {"name": info.get("name", Path(path).name), "kind": info.get("kind"), **info, "format": fmt}
    counts: dict[str, dict[str, int]] = {"split": {}, "activation": {}, "architecture": {}}
    scores, psnrs, size = [], [], 0
    for net in load_networks(path, **options):
        size += 1
        for key, value in (("split", net.meta.get("split")), ("activation", net.activation),
                           ("architecture", net.architecture.key)):
            counts[key][str(value)] = counts[key].get(str(value), 0) + 1
        if net.meta.get("score") is not None:
            scores.append(net.meta["score"])
        if net.meta.get("psnr") is not None:
            psnrs.append(net.meta["psnr"])
    name = find_small_cnn_zoo(path).name if fmt == "small-cnn-zoo" else Path(path).name
    info = {"name": name, "kind": "cnn" if fmt == "small-cnn-zoo" else "inr", "format": fmt, "size": size, **counts}
    if scores:
        info["score"] = describe(scores)
    if psnrs:
        info["psnr"] = describe(psnrs)
    return info


def merge_zoos(pieces: Sequence[str | Path], out: str | Path, info: dict[str, Any] | None = None, *,
               overwrite: bool = False) -> int:
    """Concatenate zoo directories of our format (e.g. ``--start/--count`` pieces) into ``out``.

    Parts are verified, copied and renumbered in the order given; ids must be unique; ``info.json`` is
    the first piece's, with ``size`` summed, the new part list, ``pieces`` listing the inputs and ``info``
    merged in. ``out`` is
    replaced atomically (see :func:`scalegmn.io.atomic_dir` for ``overwrite``). Returns the number of networks.
    """
    if not pieces:
        raise ValueError("merge_zoos: no pieces")
    infos = [read_info(p) for p in pieces]
    seen: set[str] = set()
    for piece in pieces:
        for net in iter_zoo(piece):
            key = str(net.meta.get("id"))
            if key in seen:
                raise ValueError(f"{piece}: network id {key!r} already in an earlier piece")
            seen.add(key)
    parts: list[dict[str, Any]] = []
    with atomic_dir(out, ZOO_KIND, overwrite=overwrite, inputs=pieces) as tmp:
        tmp.mkdir()
        for piece, piece_info in zip(pieces, infos):
            for part, entry in zoo_parts(piece, piece_info):
                copy = tmp / part_name(len(parts))
                shutil.copyfile(part, copy)
                networks = entry["networks"] if entry else len(torch.load(copy, weights_only=True))
                parts.append(part_entry(copy, networks))
                if entry and parts[-1]["sha256"] != entry["sha256"]:
                    raise ValueError(f"{part}: changed while it was merged (SHA-256 differs from {INFO_FILE})")
        write_info(tmp, {**infos[0], "pieces": [str(p) for p in pieces], **(info or {})}, parts)
    return sum(p["networks"] for p in parts)
