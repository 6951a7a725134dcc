"""One network as one table row: the Arrow schema of a graph dataset and the exact conversions.

A row holds everything needed to rebuild the :class:`NetworkWeights` bit for bit (per-layer weights and
biases as flat row-major lists of the network's own float dtype, their shapes, strides, paddings,
pooling, activation settings and the metadata as canonical JSON) plus the columns every consumer reads
directly (id, source id, augmentation seed, split, activation, label, score, architecture key).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa
import torch

from scalegmn.weights import NetworkWeights

SCHEMA_VERSION = 1
SPLITS: tuple[str, ...] = ("train", "val", "test")
NO_LABEL = -1
NO_AUG_SEED = -1

DTYPES: dict[torch.dtype, str] = {torch.float16: "float16", torch.float32: "float32", torch.float64: "float64"}
NUMPY_DTYPES: dict[str, np.dtype] = {name: np.dtype(name) for name in DTYPES.values()}

#: Column name -> description (used in the dataset card; the order is the schema's order).
COLUMNS: dict[str, str] = {
    "id": "unique id of the network within the dataset",
    "source_id": "id of the original network this row derives from (its own id for originals)",
    "aug_seed": "seed of the random symmetry that produced this augmented copy (-1 for originals)",
    "split": "train, val or test (augmented copies stay in their source's split)",
    "activation": "hidden activation: relu, leaky_relu, tanh, sine, sigmoid or gelu",
    "label": "class of the network (INR zoos: the digit/class of the image it encodes; -1 if none)",
    "score": "test accuracy of the network (CNN zoos; NaN if none)",
    "arch_key": "architecture key: networks with equal keys share one graph structure (edge_index)",
    "dtype": "float dtype of weights and biases (float16, float32 or float64)",
    "weight_shapes": "per layer the weight shape: Linear (out, in), Conv2d (out, in, kh, kw)",
    "weights": "per layer the weight tensor flattened row-major (PyTorch layout)",
    "biases": "per layer the bias vector (out,)",
    "strides": "per layer the conv stride (1 for linear layers)",
    "paddings": "per layer the conv padding (0 for linear layers)",
    "pooling": "between the last conv and the first linear layer: avg (global average) or flatten",
    "w0": "frequency of sine activations, sin(w0 * z)",
    "output_offset": "constant added to the network output (DWS INRs: 0.5)",
    "leaky_slope": "negative slope of leaky_relu",
    "meta": "all metadata of the network as JSON (id, source, label, score, hparams, psnr, ...)",
}


def dtype_name(dtype: torch.dtype) -> str:
    """``"float32"`` etc.; ``ValueError`` for dtypes a dataset cannot hold."""
    try:
        return DTYPES[dtype]
    except KeyError:
        raise ValueError(f"unsupported weight dtype {dtype}; expected one of {', '.join(DTYPES.values())}") from None


def arrow_schema(dtype: str) -> pa.Schema:
    """The schema of a dataset whose networks have float dtype ``dtype`` (e.g. ``"float32"``)."""
    value = pa.from_numpy_dtype(NUMPY_DTYPES[dtype])
    ints = pa.list_(pa.int32())
    fields = {
        "id": pa.string(),
        "source_id": pa.string(),
        "aug_seed": pa.int64(),
        "split": pa.string(),
        "activation": pa.string(),
        "label": pa.int64(),
        "score": pa.float64(),
        "arch_key": pa.string(),
        "dtype": pa.string(),
        "weight_shapes": pa.list_(ints),
        "weights": pa.list_(pa.list_(value)),
        "biases": pa.list_(pa.list_(value)),
        "strides": ints,
        "paddings": ints,
        "pooling": pa.string(),
        "w0": pa.float64(),
        "output_offset": pa.float64(),
        "leaky_slope": pa.float64(),
        "meta": pa.string(),
    }
    assert list(fields) == list(COLUMNS)
    return pa.schema([pa.field(name, kind, nullable=False) for name, kind in fields.items()])


def network_id(net: NetworkWeights, fallback: str) -> str:
    """``meta["id"]`` as a string, or ``fallback`` when the network has none."""
    value = net.meta.get("id")
    return fallback if value is None else str(value)


def summary_fields(net: NetworkWeights, split: str, fallback_id: str) -> dict[str, Any]:
    """The columns a consumer reads directly (those of ``GraphDataset.frame()`` except ``row``)."""
    net_id = network_id(net, fallback_id)
    label = net.meta.get("label")
    score = net.meta.get("score")
    aug_seed = net.meta.get("aug_seed")
    return {
        "id": net_id,
        "source_id": str(net.meta.get("source_id", net_id)),
        "aug_seed": NO_AUG_SEED if aug_seed is None else int(aug_seed),
        "split": split,
        "activation": net.activation,
        "label": NO_LABEL if label is None else int(label),
        "score": math.nan if score is None else float(score),
        "arch_key": net.architecture.key,
    }


def network_to_row(net: NetworkWeights, split: str, fallback_id: str) -> dict[str, Any]:
    """One row (python values; float tensors as flat numpy arrays of their own dtype, so nothing is rounded)."""
    record = net.to_dict()
    return {
        **summary_fields(net, split, fallback_id),
        **record,
        "dtype": dtype_name(net.dtype),
        "weight_shapes": [list(w.shape) for w in net.weights],
        "weights": [w.detach().cpu().reshape(-1).numpy() for w in record["weights"]],
        "biases": [b.detach().cpu().numpy() for b in record["biases"]],
    }


def network_from_row(row: dict[str, Any]) -> NetworkWeights:
    """The exact network of a row given as python values (``Table.to_pylist()`` or ``datasets`` rows)."""
    np_dtype = NUMPY_DTYPES[row["dtype"]]
    weights = [
        torch.from_numpy(np.asarray(w, dtype=np_dtype).reshape(shape).copy())
        for w, shape in zip(row["weights"], row["weight_shapes"])
    ]
    biases = [torch.from_numpy(np.asarray(b, dtype=np_dtype).copy()) for b in row["biases"]]
    return NetworkWeights.from_dict({**row, "weights": weights, "biases": biases})


def rows_to_batch(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.RecordBatch:
    """An Arrow record batch of rows made by :func:`network_to_row`."""
    return pa.RecordBatch.from_pylist(rows, schema=schema)
