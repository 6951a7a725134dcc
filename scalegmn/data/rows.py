"""One network as one table row: the Arrow schema of a graph dataset and the exact conversions.

A row holds everything needed to rebuild the :class:`NetworkWeights` bit for bit (per-layer weights and
biases as flat row-major lists of the network's own float dtype, their shapes, strides, paddings,
pooling, activation settings and the metadata as canonical JSON) plus the columns every consumer reads
directly (id, source id, augmentation seed, split, activation, label, score, architecture key).
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pyarrow as pa
import torch

from scalegmn.core.weights import NetworkWeights

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


#: Per-layer columns of a published dataset with one architecture (``weight_0``, ``bias_0``, ...), instead of
#: the flat ``weights``/``biases``; see :mod:`scalegmn.data.publish`.
WEIGHT_COLUMN = "weight_{}"
BIAS_COLUMN = "bias_{}"
#: Published column holding ``w0``, ``output_offset`` and ``leaky_slope`` as JSON: exact under every ``datasets``
#: format (the numpy and torch formats round float columns and arrays to float32).
SETTINGS_COLUMN = "settings"
SETTINGS: tuple[str, ...] = ("w0", "output_offset", "leaky_slope")


def _exact_array(value: Any, np_dtype: np.dtype, what: str) -> np.ndarray:
    """``value`` (python list, numpy array or torch tensor) as a fresh numpy array of ``np_dtype``;
    ``ValueError`` if it arrives in a narrower float dtype (rounded, e.g. float64 by a float32 format)."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    array = np.asarray(value) if isinstance(value, np.ndarray) else np.asarray(value, dtype=np_dtype)
    if array.dtype == object:  # a numpy-format row of equal-length lists can still be an object array
        array = np.asarray(array.tolist(), dtype=np_dtype)
    if array.dtype.kind == "f" and array.dtype.itemsize < np_dtype.itemsize:
        raise ValueError(
            f"{what} arrived as {array.dtype} but the network is {np_dtype}: the values were rounded (the datasets "
            f"numpy/torch formats give float32 by default); use the python format or dtype={np_dtype}"
        )
    return array.astype(np_dtype, copy=True)


def _exact_float(row: dict[str, Any], name: str) -> float:
    """A float64 setting of a row: from the ``settings`` JSON when the row has it, else its column (which must
    not have been rounded to float32 by a format)."""
    if SETTINGS_COLUMN in row:
        return float(json.loads(str(row[SETTINGS_COLUMN]))[name])
    value = row[name]
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, (np.ndarray, np.generic)) and value.dtype != np.float64:
        raise ValueError(f"column {name!r} arrived as {value.dtype}, rounded from float64; use the python format")
    return float(value)


def _shape(shape: Any) -> tuple[int, ...]:
    if isinstance(shape, torch.Tensor):
        shape = shape.tolist()
    return tuple(int(d) for d in shape)


def network_from_row(row: dict[str, Any]) -> NetworkWeights:
    """The exact network of a row: ``Table.to_pylist()`` or a ``datasets`` row under the python, numpy or
    torch format (lists, numpy arrays or tensors), with flat ``weights``/``biases`` or the per-layer
    ``weight_<l>``/``bias_<l>`` columns of a published one-architecture dataset."""
    dtype = str(row["dtype"])
    np_dtype = NUMPY_DTYPES[dtype]
    shapes = [_shape(s) for s in row["weight_shapes"]]
    if "weights" in row:
        flat_w, flat_b = row["weights"], row["biases"]
    else:
        flat_w = [row[WEIGHT_COLUMN.format(l)] for l in range(len(shapes))]
        flat_b = [row[BIAS_COLUMN.format(l)] for l in range(len(shapes))]
    weights = [
        torch.from_numpy(_exact_array(w, np_dtype, f"layer {l} weights").reshape(shape))
        for l, (w, shape) in enumerate(zip(flat_w, shapes, strict=True))
    ]
    biases = [torch.from_numpy(_exact_array(b, np_dtype, f"layer {l} biases")) for l, b in enumerate(flat_b)]
    return NetworkWeights.from_dict({
        "weights": weights, "biases": biases, "activation": str(row["activation"]),
        "strides": _shape(row["strides"]), "paddings": _shape(row["paddings"]), "pooling": str(row["pooling"]),
        "w0": _exact_float(row, "w0"), "output_offset": _exact_float(row, "output_offset"),
        "leaky_slope": _exact_float(row, "leaky_slope"), "meta": str(row["meta"]),
    })


def rows_to_batch(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.RecordBatch:
    """An Arrow record batch of rows made by :func:`network_to_row`."""
    return pa.RecordBatch.from_pylist(rows, schema=schema)
