"""Export a graph dataset of SIRENs in the layout of the DWS MNIST INRs, the input of the official ScaleGMN code.

Layout (Navon et al. 2023; read back by :func:`scalegmn.zoo.inr_readers.read_dws_inrs`)::

    <out>/<name>_png_<training|testing>_<label>_<row>/checkpoints/model_final.pth
    <out>/<name>_splits.json

Each ``.pth`` is a state dict ``seq.<l>.weight (out, in)``, ``seq.<l>.bias (out,)`` for every layer ``l``, in
layer order (float32); the function is ``sin(30 z)`` after every layer but the last, then **+0.5**. As in DWS
MNIST, validation INRs sit in ``training`` directories (DWS carves val out of the MNIST training images); the
splits JSON is what assigns them. ``<row>`` is the INR's row in the graph dataset.

The splits JSON is the official ``src/utils/generate_data_splits.py`` format: ``{"train": {"path": [...],
"label": [...]}, "val": {...}, "test": {...}}`` with labels as strings. The official loader
(``LabeledINRDataset.get_path`` in ``src/data/mnist_inr_dataset.py``) hands each ``path`` to ``torch.load``
verbatim, so a relative path is resolved against the working directory of the training script (the official
repository's root). Paths are therefore written as ``<path_prefix>/<relative path>`` with ``path_prefix``
defaulting to ``data/<out folder name>``: the export placed (or linked) at ``<official root>/data/<out folder
name>`` loads as is, and the official canonicalization script, which appends ``_canon`` to a path's second
component, writes beside it instead of at the file-system root as it would for an absolute path.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from scalegmn.data.dataset import GraphDatasetBase
from scalegmn.data.reader import open_dataset
from scalegmn.data.rows import NO_LABEL, SPLITS
from scalegmn.core.weights import NetworkWeights
from scalegmn.io import atomic_dir
from scalegmn.zoo.inr_readers import DWS_OUTPUT_OFFSET, DWS_W0

DWS_KIND = "dws-inrs"
SPLIT_WORDS = {"train": "training", "val": "training", "test": "testing"}
_NAME = re.compile(r"[A-Za-z0-9.-]+")


@dataclass(frozen=True)
class DwsExport:
    """What :func:`export_dws_inrs` wrote: the folder, its splits JSON, INRs per split, the common layer
    layout (the official config's ``layer_layout``) and the seconds it took."""

    out_dir: Path
    splits_file: Path
    split_sizes: dict[str, int]
    layer_layout: tuple[int, ...]
    seconds: float

    @property
    def count(self) -> int:
        return sum(self.split_sizes.values())


def dws_state_dict(net: NetworkWeights) -> dict[str, torch.Tensor]:
    """The DWS state dict of ``net``: ``seq.<l>.weight (out, in)`` and ``seq.<l>.bias (out,)``, float32, in
    layer order (the official loader takes weights and biases in the dict's order)."""
    state: dict[str, torch.Tensor] = {}
    for l, (w, b) in enumerate(zip(net.weights, net.biases)):
        state[f"seq.{l}.weight"] = w.detach().to("cpu", torch.float32).clone()
        state[f"seq.{l}.bias"] = b.detach().to("cpu", torch.float32).clone()
    return state


def check_dws_siren(net: NetworkWeights, where: str) -> None:
    """``ValueError`` naming ``where`` unless ``net`` is what a DWS file can hold: an MLP with ``sin(30 z)``
    activations and the +0.5 output offset (the format stores neither, readers assume both)."""
    if net.activation != "sine":
        raise ValueError(f"{where}: activation {net.activation!r}; DWS INRs are SIRENs (sine)")
    if any(net.is_conv):
        raise ValueError(f"{where}: has conv layers; DWS INRs are MLPs")
    if net.w0 != DWS_W0:
        raise ValueError(f"{where}: w0 {net.w0:g}; the DWS format implies w0 {DWS_W0:g}")
    if net.output_offset != DWS_OUTPUT_OFFSET:
        raise ValueError(f"{where}: output offset {net.output_offset:g}; the DWS format implies "
                         f"+{DWS_OUTPUT_OFFSET:g} (readers add it to every output)")


def _dataset_name(dataset: GraphDatasetBase) -> str:
    info = dataset.metadata.get("source", {}).get("info") or {}
    return str(info.get("name") or "inr")


def export_dws_inrs(dataset: GraphDatasetBase | str | Path, out_dir: str | Path, *, name: str | None = None,
                    path_prefix: str | None = None, overwrite: bool = False) -> DwsExport:
    """Write every INR of graph ``dataset`` (a dataset or its folder) as DWS state dicts under ``out_dir``
    (replaced atomically; see :func:`scalegmn.io.atomic_dir` for ``overwrite``) plus ``<name>_splits.json``
    keeping the dataset's splits exactly. ``name`` defaults to the source zoo's name, ``path_prefix`` (the
    start of every path in the JSON; ``""``: paths relative to ``out_dir``) to ``data/<out_dir name>``; see
    the module docstring.

    ``ValueError`` naming the dataset and the row for an INR the format cannot hold (see
    :func:`check_dws_siren`), without a label or split, or with another layer layout than the first."""
    start = time.perf_counter()
    ds = dataset if isinstance(dataset, GraphDatasetBase) else open_dataset(dataset)
    path = getattr(ds, "path", None)
    source = str(path or "dataset")
    name = name or _dataset_name(ds)
    if not _NAME.fullmatch(name):
        raise ValueError(f"name {name!r}: use letters, digits, '.' and '-' only (it starts every INR folder name)")
    prefix = (f"data/{Path(out_dir).name}" if path_prefix is None else path_prefix).rstrip("/")
    frame = ds.frame()
    rows = ds.rows()
    if not len(frame):
        raise ValueError(f"{source}: no networks to export")
    splits: dict[str, dict[str, list[str]]] = {split: {"path": [], "label": []} for split in SPLITS}
    layout: tuple[int, ...] | None = None
    with atomic_dir(out_dir, DWS_KIND, overwrite=overwrite, inputs=[path] if path else []) as tmp:
        for position, (row, split, label) in enumerate(zip(rows, frame["split"], frame["label"])):
            where = f"{source}: row {int(row)} (id {frame['id'].iloc[position]})"
            if split not in SPLITS:
                raise ValueError(f"{where}: no split (expected one of {', '.join(SPLITS)})")
            if int(label) == NO_LABEL:
                raise ValueError(f"{where}: no label; the DWS layout needs a class label per INR")
            net = ds.network(position)
            check_dws_siren(net, where)
            if layout is None:
                layout = tuple(net.layer_sizes)
            elif tuple(net.layer_sizes) != layout:
                raise ValueError(f"{where}: layer layout {net.layer_sizes}, but row {int(rows[0])} has "
                                 f"{list(layout)}; the official loader takes one layout per dataset")
            relative = f"{name}_png_{SPLIT_WORDS[split]}_{int(label)}_{int(row)}/checkpoints/model_final.pth"
            file = tmp / relative
            file.parent.mkdir(parents=True)
            torch.save(dws_state_dict(net), file)
            splits[split]["path"].append(f"{prefix}/{relative}" if prefix else relative)
            splits[split]["label"].append(str(int(label)))
        splits_name = f"{name}_splits.json"
        (tmp / splits_name).write_text(json.dumps(splits) + "\n")
    out = Path(out_dir)
    return DwsExport(out_dir=out, splits_file=out / splits_name,
                     split_sizes={split: len(entry["path"]) for split, entry in splits.items()},
                     layer_layout=layout or (), seconds=time.perf_counter() - start)
