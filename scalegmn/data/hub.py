"""The Hugging Face ``datasets`` view of a graph dataset: its published features and split names, and
opening a published folder (or a Hub dataset id) as a :class:`~scalegmn.data.reader.GraphDataset`.

Published features: the columns of :func:`scalegmn.data.rows.arrow_schema`, with the label a ``ClassLabel``
when the dataset has labels, the split column holding the published split name (``val`` is published as
``validation``), a ``settings`` JSON column (``w0``, ``output_offset``, ``leaky_slope``, exact under every
format), and, when all networks share one architecture, per-layer ``weight_<l>`` (``Array2D``/``Array4D``
of the layer's shape) and ``bias_<l>`` (fixed-length lists) columns instead of the flat ``weights`` and
``biases``, so ``with_format("torch")`` gives tensors of each layer's shape.

A published folder converts back through :func:`~scalegmn.data.rows.network_from_row` and the shard writer
into a graph dataset cached under the ``datasets`` cache, keyed by the loaded data's fingerprints.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from scalegmn.data.metadata import METADATA_FILE, params_hash
from scalegmn.data.rows import BIAS_COLUMN, SETTINGS, SETTINGS_COLUMN, WEIGHT_COLUMN, arrow_schema, network_from_row
from scalegmn.core.weights import NetworkWeights

#: Our split name -> the published one (the Hub's conventional names).
HUB_SPLITS: dict[str, str] = {"train": "train", "val": "validation", "test": "test"}
INTERNAL_SPLITS: dict[str, str] = {**{hub: ours for ours, hub in HUB_SPLITS.items()}, "val": "val", "valid": "val"}
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$")
#: Default class names of INR zoos whose metadata names none (MNIST, Fashion-MNIST, CIFAR-10 and digits: 10).
INR_CLASSES = 10
CONVERTED_DIR = "scalegmn-graph"  # under the datasets cache: graph datasets converted from published ones


def class_names(metadata: dict[str, Any], table: pa.Table) -> list[str] | None:
    """The label's class names: the zoo info's ``class_names`` if it has them, else ``"0"``, ``"1"``, ...
    (at least 10 for INR zoos); ``None`` when no network has a label."""
    largest = pc.max(table.column("label")).as_py()
    if largest is None or largest < 0:
        return None
    info = metadata.get("source", {}).get("info", {})
    names = info.get("class_names")
    if names:
        if len(names) <= largest:
            raise ValueError(f"label {largest} but the zoo names only {len(names)} classes")
        return [str(n) for n in names]
    count = max(largest + 1, INR_CLASSES if info.get("kind") == "inr" else 0)
    return [str(i) for i in range(count)]


def layer_shapes(metadata: dict[str, Any], table: pa.Table) -> list[list[int]] | None:
    """The weight shape of every layer when all networks share one architecture, else ``None``."""
    if len(metadata["architectures"]) != 1 or table.num_rows == 0:
        return None
    return table.column("weight_shapes")[0].as_py()


def hub_features(metadata: dict[str, Any], table: pa.Table) -> Any:
    """The ``datasets.Features`` of the published dataset (column order: the schema's, with ``settings``
    after ``leaky_slope`` and the per-layer columns in place of ``weights``/``biases``)."""
    from datasets import Array2D, Array3D, Array4D, ClassLabel, Features, List, Value

    dtype = metadata["dtype"]
    names = class_names(metadata, table)
    shapes = layer_shapes(metadata, table)
    arrays = {2: Array2D, 3: Array3D, 4: Array4D}
    base = Features.from_arrow_schema(arrow_schema(dtype))
    features: dict[str, Any] = {}
    for name, feature in base.items():
        if name == "label" and names is not None:
            features[name] = ClassLabel(names=names)
        elif name == "weights" and shapes is not None:
            for l, shape in enumerate(shapes):
                features[WEIGHT_COLUMN.format(l)] = (
                    arrays[len(shape)](shape=tuple(shape), dtype=dtype) if len(shape) > 1
                    else List(Value(dtype), length=shape[0])
                )
                features[BIAS_COLUMN.format(l)] = List(Value(dtype), length=shape[0])
        elif name == "biases" and shapes is not None:
            continue
        else:
            features[name] = feature
        if name == "leaky_slope":
            features[SETTINGS_COLUMN] = Value("string")
    return Features(features)


def _nest(values: pa.Array, shape: list[int]) -> pa.Array:
    """Flat ``values`` as lists nested by ``shape`` (fixed-size lists for one dimension, the storage of
    ``datasets``' ``ArrayND`` otherwise)."""
    if len(shape) == 1:
        return pa.FixedSizeListArray.from_arrays(values, shape[0])
    for size in reversed(shape):
        offsets = pa.array(np.arange(0, len(values) + 1, size, dtype=np.int32))
        values = pa.ListArray.from_arrays(offsets, values)
    return values


def _layer_column(column: pa.ListArray, l: int, shape: list[int], feature: Any) -> pa.Array:
    """Layer ``l`` of a flat ``weights``/``biases`` column as the published per-layer column."""
    layer = pc.list_element(column, l)
    size = int(np.prod(shape))
    if not pc.all(pc.equal(pc.list_value_length(layer), size)).as_py():
        raise ValueError(f"layer {l}: not every network holds {size} values (architectures differ)")
    storage = _nest(layer.flatten(), shape)
    return pa.ExtensionArray.from_storage(feature(), storage) if len(shape) > 1 else storage


def hub_batch(batch: pa.RecordBatch, split: str, features: Any) -> pa.RecordBatch:
    """Rows of our schema (all of split ``split``, our name) as a record batch of the published features."""
    settings = [json.dumps(dict(zip(SETTINGS, values)), sort_keys=True)
                for values in zip(*(batch.column(s).to_pylist() for s in SETTINGS))]
    columns = []
    for name, feature in features.items():
        if name == "split":
            columns.append(pa.array([HUB_SPLITS[split]] * batch.num_rows, pa.string()))
        elif name == SETTINGS_COLUMN:
            columns.append(pa.array(settings, pa.string()))
        elif name.startswith(("weight_", "bias_")) and name != "weight_shapes":
            kind, l = name.rsplit("_", 1)
            shape = batch.column("weight_shapes")[0].as_py()[int(l)]
            source = batch.column("weights" if kind == "weight" else "biases")
            columns.append(_layer_column(source, int(l), shape if kind == "weight" else shape[:1], feature))
        else:
            columns.append(batch.column(name))
    return pa.RecordBatch.from_arrays(columns, schema=features.arrow_schema)


def dataset_info_yaml(features: Any, sizes: dict[str, tuple[int, int]]) -> dict[str, Any]:
    """The card's ``dataset_info``: features and, per published split, ``num_examples`` and ``num_bytes``.
    ``sizes``: published split -> (rows, Arrow bytes)."""
    from datasets import DatasetInfo, SplitDict, SplitInfo

    splits = SplitDict({s: SplitInfo(name=s, num_bytes=b, num_examples=n) for s, (n, b) in sizes.items() if n})
    info = DatasetInfo(features=features, splits=splits, dataset_size=sum(b for _, b in sizes.values()))
    return {"config_name": "default", **info._to_yaml_dict()}


def is_hub_source(path: str | Path) -> bool:
    """Whether :func:`~scalegmn.data.reader.open_dataset` should open ``path`` through ``datasets``: a
    published folder (a ``metadata.json`` with a ``hub`` entry, or no ``metadata.json`` but Parquet files or
    a dataset card), or a string ``ORG/NAME`` naming no local path (a Hub dataset id)."""
    folder = Path(path)
    if folder.is_dir():
        meta = folder / METADATA_FILE
        if meta.is_file():
            try:
                return "hub" in json.loads(meta.read_text())
            except (OSError, ValueError):
                return False
        return (folder / "README.md").is_file() or next(folder.rglob("*.parquet"), None) is not None
    return isinstance(path, str) and not os.path.lexists(path) and bool(HUB_ID.match(path))


def _datasets_cache() -> Path:
    """The ``datasets`` cache folder, read from the environment now (not at import time)."""
    import datasets

    if os.environ.get("HF_DATASETS_CACHE"):
        return Path(os.environ["HF_DATASETS_CACHE"]).expanduser()
    home = os.environ.get("HF_HOME") or datasets.config.HF_CACHE_HOME
    return Path(home).expanduser() / "datasets"


def _shipped_metadata(source: str | Path) -> dict[str, Any]:
    """The ``metadata.json`` published with the dataset (``{}`` if there is none or it cannot be fetched)."""
    local = Path(source) / METADATA_FILE
    if Path(source).is_dir():
        return json.loads(local.read_text()) if local.is_file() else {}
    try:  # a Hub id (online only)
        from huggingface_hub import hf_hub_download

        return json.loads(Path(hf_hub_download(str(source), METADATA_FILE, repo_type="dataset")).read_text())
    except Exception:  # no such file, offline, or no access: the provenance is then just the id
        return {}


def load_published(source: str | Path, cache_dir: Path) -> Any:
    """``datasets.load_dataset`` of a published folder or Hub id (``ValueError`` naming it if that fails)."""
    import datasets

    try:
        loaded = datasets.load_dataset(str(source), cache_dir=str(cache_dir))
    except Exception as err:  # datasets raises file, connection and builder errors of many types
        raise ValueError(f"{source}: cannot be loaded as a published dataset ({type(err).__name__}: {err})") from None
    unknown = [s for s in loaded if s not in INTERNAL_SPLITS]
    if unknown:
        raise ValueError(f"{source}: unknown split(s) {unknown}; expected {', '.join(HUB_SPLITS.values())}")
    return loaded


def published_networks(loaded: Any) -> Iterator[tuple[NetworkWeights, str]]:
    """``(network, our split name)`` of every row of a loaded ``DatasetDict``, split by split."""
    for split in sorted(loaded, key=lambda s: list(INTERNAL_SPLITS).index(s)):
        for row in loaded[split]:
            yield network_from_row(row), INTERNAL_SPLITS[split]


def open_hub_dataset(source: str | Path, verify: bool | None = None) -> Any:
    """A published folder or Hub dataset id as a :class:`~scalegmn.data.reader.GraphDataset`: loaded with
    ``datasets``, converted once (rows in split order) into a graph dataset cached beside the ``datasets``
    cache and reused while the loaded data's fingerprints stay the same. The shipped ``metadata.json``
    gives the provenance (source, params); its split sizes must match the loaded rows."""
    from scalegmn.data.reader import GraphDataset
    from scalegmn.data.shards import write_dataset

    cache = _datasets_cache()
    loaded = load_published(source, cache)
    shipped = _shipped_metadata(source)
    where = str(Path(source).resolve()) if Path(source).is_dir() else str(source)
    sizes = {INTERNAL_SPLITS[s]: loaded[s].num_rows for s in loaded}
    expected = {s: n for s, n in shipped.get("split_sizes", {}).items() if n}
    if expected and expected != sizes:
        raise ValueError(f"{source}: split sizes {sizes} differ from its metadata.json's {expected}")
    key = params_hash({"source": where, "fingerprints": {s: loaded[s]._fingerprint for s in sorted(loaded)}})
    target = cache / CONVERTED_DIR / key
    if not (target / METADATA_FILE).is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        write_dataset(target, published_networks(loaded), source={**shipped.get("source", {}), "published": where},
                      params=shipped.get("params", {}), overwrite=True)
    return GraphDataset(target, verify=verify)
