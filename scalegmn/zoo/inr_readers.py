"""Readers of the public SIREN zoos: DWS MNIST/FMNIST INRs and NFN CIFAR-10 INRs.

Both store one PyTorch state dict per INR. Layers are the ``<prefix>.weight`` (``(out, in)``) /
``<prefix>.bias`` pairs, ordered by the first integer in their prefixes (``seq.0``, ``seq.1``, ..., from 0
without gaps; one prefix without an integer, such as ``last_layer``, comes last); every layer but the
last is followed by ``sin(w0 * z)``, which is exactly our :func:`scalegmn.core.weights.forward`.

- DWS (Navon et al. 2023): ``.../<name>_<split>_<label>_<id>/checkpoints/model_final.pth`` (MNIST: split
  word ``training``/``testing``, label from the directory name) or a ``"label"`` entry in the state dict
  (FMNIST); outputs get **+0.5**. Splits from a ``*split*.json`` (DWS MNIST: ``{"train": {"path": [...],
  "label": [...]}, ...}``; FMNIST: ``{"train": [path, ...], ...}``, absolute paths matched by suffix) when present, else from the directory name: ``testing`` -> test, ``training`` -> train, with a
  seeded ``val_fraction`` (1/12: 5000 of 60000) moved to val.
- NFN CIFAR-10 (Zhou et al. 2023): ``[siren_cifar_wts/]randinit_smaller_<label>s/net<idx>.pth``, no offset;
  split by index: ``< 45000`` train, ``< 50000`` val, else test. Augmented copies
  ``randinit_smaller_aug<k>_<label>s/net<idx>.pth`` (train only) are read with ``augmented=True`` and get
  ``source_id`` (the base INR's id) and ``aug_seed`` ``k``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import torch

from scalegmn.core.weights import NetworkWeights

_DWS_DIR = re.compile(r"_(?P<split>[A-Za-z]+)_(?P<label>\d+)_(?P<id>\d+)$")
_NFN_DIR = re.compile(r"^randinit_smaller(?:_aug(?P<aug>\d+))?_(?P<label>\d+)s$")
_NFN_FILE = re.compile(r"^net(?P<idx>\d+)\.pth$")
NFN_VAL_START, NFN_TEST_START = 45000, 50000
DWS_W0, DWS_OUTPUT_OFFSET = 30.0, 0.5  # what the DWS format leaves implicit: sin(30 z), output + 0.5


def load_state_dict(path: Path) -> Mapping[str, Any]:
    """``torch.load`` a state dict safely, with an error naming the file."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for corrupt or truncated files
        raise ValueError(f"{path}: unreadable state dict ({err})") from None
    if not isinstance(state, Mapping):
        raise ValueError(f"{path}: expected a state dict, got {type(state).__name__}")
    return state


def siren_from_state_dict(state: Mapping[str, Any], path: Path, *, w0: float, output_offset: float,
                          meta: dict[str, Any]) -> NetworkWeights:
    """The SIREN in ``state`` (see the module docstring for the layer order); the layer indices must be
    consecutive from 0 (a missing layer would otherwise leave a valid but smaller SIREN), at most one
    layer may have no index, and each layer's inputs must equal the previous layer's outputs."""
    layers: dict[str, dict[str, torch.Tensor]] = {}
    for key, value in state.items():
        prefix, _, kind = key.rpartition(".")
        if kind in ("weight", "bias") and isinstance(value, torch.Tensor):
            layers.setdefault(prefix, {})[kind] = value
    if not layers:
        raise ValueError(f"{path}: no '<layer>.weight' / '<layer>.bias' entries")

    def order(prefix: str) -> tuple[bool, tuple[int, ...], str]:
        numbers = tuple(int(n) for n in re.findall(r"\d+", prefix))
        return (not numbers, numbers, prefix)

    prefixes = sorted(layers, key=order)
    indices = [order(p)[1][0] for p in prefixes if order(p)[1]]
    if indices != list(range(len(indices))):
        gap = sorted(set(range(indices[-1] + 1)) - set(indices))
        raise ValueError(f"{path}: layer indices {indices} are not consecutive from 0"
                         + (f" (layer {', '.join(map(str, gap))} missing)" if gap else " (an index repeats)"))
    unnumbered = [p for p in prefixes if not order(p)[1]]
    if len(unnumbered) > 1:
        raise ValueError(f"{path}: layers {unnumbered} have no index, so their order is unknown")
    weights, biases = [], []
    for previous, prefix in zip([None, *prefixes], prefixes):
        entry = layers[prefix]
        if set(entry) != {"weight", "bias"} or entry["weight"].dim() != 2:
            raise ValueError(f"{path}: layer {prefix!r} needs a 2-D weight and a bias")
        if weights and entry["weight"].shape[1] != weights[-1].shape[0]:
            raise ValueError(f"{path}: layer {prefix!r} takes {entry['weight'].shape[1]} inputs but layer "
                             f"{previous!r} has {weights[-1].shape[0]} outputs")
        weights.append(entry["weight"].detach().float().clone())
        biases.append(entry["bias"].detach().float().clone())
    try:
        return NetworkWeights(weights, biases, "sine", w0=w0, output_offset=output_offset, meta=meta)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None


def _label(value: Any, path: Path) -> int:
    """A class label (a non-negative int, a one-element integer tensor or a string of digits) or a
    ``ValueError`` naming the file."""
    integer_tensor = (isinstance(value, torch.Tensor) and value.numel() == 1 and not value.is_floating_point()
                      and not value.is_complex() and value.dtype != torch.bool)
    if (integer_tensor or (isinstance(value, int) and not isinstance(value, bool))) and int(value) >= 0:
        return int(value)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    raise ValueError(f"{path}: label {value!r} is not an integer class")


def _dws_splits_file(root: Path) -> dict[str, str] | None:
    """Every path suffix of the entries of a DWS splits JSON under ``root`` -> split (None if no file),
    so that an entry matches our path relative to ``root`` whatever directory it was written from."""
    files = sorted(root.glob("*split*.json"))
    if not files:
        return None
    try:
        content = json.loads(files[0].read_text())
        entries = [(str(p), split) for split, entry in content.items()
                   for p in (entry["path"] if isinstance(entry, dict) else entry)]
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as err:
        raise ValueError(f"{files[0]}: not a DWS splits file ({err})") from None
    suffixes: dict[str, str] = {}
    for entry, split in entries:
        parts = PurePosixPath(entry.replace("\\", "/")).parts
        for k in range(len(parts)):
            suffixes.setdefault("/".join(parts[k:]), split)
    return suffixes


def read_dws_inrs(path: str | Path, *, w0: float = DWS_W0, output_offset: float = DWS_OUTPUT_OFFSET,
                  val_fraction: float = 1 / 12, seed: int = 0, source: str | None = None) -> Iterator[NetworkWeights]:
    """Stream DWS INRs (sorted by path) with ``meta``: ``id`` (relative path), ``source``, ``label``
    and ``split`` when known."""
    root = Path(path)
    files = sorted(root.rglob("*.pth"))
    if not files:
        raise ValueError(f"{root}: no .pth files (expected DWS INRs)")
    relative = [f.relative_to(root).as_posix() for f in files]
    split_entries = _dws_splits_file(root)
    splits: dict[str, str | None] = {}
    if split_entries is not None:
        splits = {rel: split_entries.get(rel) for rel in relative}
    else:
        training = []
        for rel in relative:
            match = next((m for m in map(_DWS_DIR.search, PurePosixPath(rel).parts[:-1]) if m), None)
            word = match["split"].lower() if match else ""
            splits[rel] = "test" if word.startswith("test") else ("train" if word.startswith("train") else None)
            if splits[rel] == "train":
                training.append(rel)
        picked = np.random.default_rng(seed).permutation(len(training))[: round(val_fraction * len(training))]
        for i in picked:
            splits[training[i]] = "val"
    name = source or root.name
    for file, rel in zip(files, relative):
        state = load_state_dict(file)
        label = state.get("label")
        if label is None:
            match = next((m for m in map(_DWS_DIR.search, PurePosixPath(rel).parts[:-1]) if m), None)
            if match is None:
                raise ValueError(f"{file}: no 'label' entry and no '<name>_<split>_<label>_<id>' directory")
            label = match["label"]
        meta = {"id": rel, "source": name, "label": _label(label, file)}
        if splits.get(rel) is not None:
            meta["split"] = splits[rel]
        yield siren_from_state_dict(state, file, w0=w0, output_offset=output_offset, meta=meta)


def find_nfn_cifar_root(path: str | Path) -> Path:
    """``path`` or ``path/siren_cifar_wts``, whichever holds ``randinit_smaller_*`` directories."""
    for candidate in (Path(path), Path(path) / "siren_cifar_wts"):
        if candidate.is_dir() and any(_NFN_DIR.match(p.name) for p in candidate.iterdir() if p.is_dir()):
            return candidate
    raise ValueError(f"{path}: no randinit_smaller_<label>s directories (expected NFN CIFAR-10 INRs)")


def read_nfn_cifar_inrs(path: str | Path, *, w0: float = 30.0, augmented: bool = False,
                        source: str = "cifar10-inr") -> Iterator[NetworkWeights]:
    """Stream NFN CIFAR-10 INRs by (augmentation, index) with ``meta``: ``id``, ``source``, ``label``,
    ``split``, ``index`` (and ``source_id``/``aug_seed`` for augmented copies)."""
    root = find_nfn_cifar_root(path)
    entries = []
    for directory in root.iterdir():
        match = _NFN_DIR.match(directory.name)
        if not directory.is_dir() or match is None or (match["aug"] is not None and not augmented):
            continue
        aug = None if match["aug"] is None else int(match["aug"])
        for file in directory.iterdir():
            file_match = _NFN_FILE.match(file.name)
            if file_match:
                entries.append((-1 if aug is None else aug, int(file_match["idx"]), int(match["label"]), file))
    for aug, idx, label, file in sorted(entries):
        split = "train" if idx < NFN_VAL_START else ("val" if idx < NFN_TEST_START else "test")
        if aug >= 0 and split != "train":
            raise ValueError(f"{file}: augmented copy of net {idx}, which is not in the train split")
        meta: dict[str, Any] = {"id": f"{source}-{idx:05d}" + (f"-aug{aug}" if aug >= 0 else ""), "source": source,
                                "label": label, "split": split, "index": idx}
        if aug >= 0:
            meta.update(source_id=f"{source}-{idx:05d}", aug_seed=aug)
        yield siren_from_state_dict(load_state_dict(file), file, w0=w0, output_offset=0.0, meta=meta)
