"""The Small CNN Zoo format (Unterthiner et al. 2020): reader and exporter.

A zoo directory holds ``weights.npy`` (one row per checkpoint, float32), ``metrics.csv.gz`` (one row per
checkpoint: ``config.*`` hyper-parameters, ``step``, ``test_accuracy``...) and ``layout.csv``
(``varname, start_idx, end_idx, shape``: where each TensorFlow variable sits in a row; within a layer the
bias comes before the kernel). Kernels are TensorFlow ``HWIO`` ``(kh, kw, in, out)``, dense kernels
``(in, out)``; convolutions have stride 2 and ``valid`` padding (PyTorch ``padding=0``), followed by
global average pooling. Our exporter writes an extra ``config.padding`` column (pixels of zero padding on
every side, 1 for digits-cnn) that the reader honours; it is 0 when absent.

Standard splits (NFN, Zhou et al. 2023): ``split.csv`` has one column whose first line is the header
``0``, followed by a permutation of all row indices; rows are reordered by it, the ``step == 86`` rows
kept, the last 50 % are test and the first 50 % are shuffled with ``random.Random(0)`` into 80 % train
and 20 % val.
"""

from __future__ import annotations

import ast
import math
import random
import re
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from scalegmn.io import atomic_dir
from scalegmn.core.weights import NetworkWeights

WEIGHTS_FILE = "weights.npy"
METRICS_FILE = "metrics.csv.gz"
LAYOUT_FILE = "layout.csv"
SPLIT_FILE = "split.csv"
FINAL_STEP = 86
REQUIRED_METRICS = ("config.activation", "step", "test_accuracy")
ACTIVATIONS = ("relu", "tanh", "sigmoid", "gelu", "leaky_relu")
_VARNAME = re.compile(r"^(?P<layer>.+)/(?P<kind>bias|kernel):0$")


@dataclass(frozen=True)
class LayerSlice:
    """Where one layer's bias and kernel sit in a ``weights.npy`` row (TensorFlow kernel shape)."""

    name: str
    bias: tuple[int, int]
    kernel: tuple[int, int]
    kernel_shape: tuple[int, ...]


def find_small_cnn_zoo(path: str | Path) -> Path:
    """The directory holding ``weights.npy``: ``path`` itself or its single sub-directory that has it."""
    root = Path(path)
    if (root / WEIGHTS_FILE).is_file():
        return root
    candidates = sorted(p.parent for p in root.glob(f"*/{WEIGHTS_FILE}"))
    if len(candidates) != 1:
        raise ValueError(f"{root}: expected {WEIGHTS_FILE} here or in exactly one sub-directory, "
                         f"found {len(candidates)}")
    return candidates[0]


def _require(path: Path) -> Path:
    if not path.is_file():
        raise ValueError(f"{path}: missing (a Small CNN Zoo needs {WEIGHTS_FILE}, {METRICS_FILE}, {LAYOUT_FILE})")
    return path


def read_layout(path: str | Path) -> list[LayerSlice]:
    """Parse ``layout.csv`` into layers in row order (sorted by the kernel's start index)."""
    path = Path(path)
    try:
        frame = pd.read_csv(_require(path))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: not a readable CSV ({err})") from None
    missing = {"varname", "start_idx", "end_idx", "shape"} - set(frame.columns)
    if missing:
        raise ValueError(f"{path}: missing columns {sorted(missing)}")
    parts: dict[str, dict[str, Any]] = {}
    for row in frame.itertuples(index=False):
        match = _VARNAME.match(str(row.varname))
        if match is None:
            raise ValueError(f"{path}: unexpected varname {row.varname!r} (want '<layer>/bias:0' or '<layer>/kernel:0')")
        try:
            shape = tuple(int(s) for s in ast.literal_eval(str(row.shape)))
        except (ValueError, SyntaxError, TypeError):
            raise ValueError(f"{path}: {row.varname}: shape {row.shape!r} is not a tuple of ints") from None
        start, end = (_index(value, f"{path}: {row.varname}: {key}") for key, value in
                      (("start_idx", row.start_idx), ("end_idx", row.end_idx)))
        if end - start != math.prod(shape):
            raise ValueError(f"{path}: {row.varname}: {end - start} entries do not hold shape {shape}")
        if match["kind"] in parts.get(match["layer"], {}):
            raise ValueError(f"{path}: {row.varname} appears twice")
        parts.setdefault(match["layer"], {})[match["kind"]] = ((start, end), shape)
    layers = []
    for name, kinds in parts.items():
        if set(kinds) != {"bias", "kernel"}:
            raise ValueError(f"{path}: layer {name} needs both a bias and a kernel")
        (bias, bias_shape), (kernel, kernel_shape) = kinds["bias"], kinds["kernel"]
        if len(kernel_shape) not in (2, 4) or bias_shape != (kernel_shape[-1],):
            raise ValueError(f"{path}: layer {name}: kernel {kernel_shape} and bias {bias_shape} do not fit")
        layers.append(LayerSlice(name, bias, kernel, kernel_shape))
    if not layers:
        raise ValueError(f"{path}: no layers")
    _check_tiling(path, frame)
    return sorted(layers, key=lambda layer: layer.kernel[0])


def _index(value: Any, where: str) -> int:
    """A non-negative integer index from a CSV cell (``ValueError`` naming ``where`` otherwise)."""
    if isinstance(value, (int, np.integer)) and value >= 0:
        return int(value)
    if isinstance(value, (float, np.floating)) and math.isfinite(value) and value == int(value) and value >= 0:
        return int(value)
    raise ValueError(f"{where}: {value!r} is not a non-negative integer index")


def _numbers(metrics: pd.DataFrame, column: str, path: Path) -> list[Any]:
    """The cells of ``column`` as numbers (empty cells NaN); a ``ValueError`` naming ``path``, the row and
    the column for the first cell that is not a number."""
    values = pd.to_numeric(metrics[column], errors="coerce")
    bad = np.flatnonzero(values.isna() & metrics[column].notna())
    if len(bad):
        raise ValueError(f"{path}: row {bad[0]}: {column}: {metrics[column].iloc[bad[0]]!r} is not a number")
    return values.tolist()


def _check_tiling(path: Path, frame: pd.DataFrame) -> None:
    """The ``[start_idx, end_idx)`` ranges of ``layout.csv`` must tile ``[0, width)``: sorted by start, each
    begins where the previous one ends (no gap, no overlap)."""
    ranges = sorted((int(r.start_idx), int(r.end_idx), str(r.varname)) for r in frame.itertuples(index=False))
    position, previous = 0, "the start of the row"
    for start, end, name in ranges:
        if start < position:
            raise ValueError(f"{path}: {name} [{start}, {end}) overlaps {previous} (which ends at {position})")
        if start > position:
            raise ValueError(f"{path}: entries [{position}, {start}) between {previous} and {name} belong to "
                             "no variable")
        position, previous = end, name


def read_split_file(path: str | Path, num_rows: int) -> np.ndarray:
    """The row permutation of an NFN ``split.csv`` (first line is the header ``0``)."""
    path = Path(path)
    try:
        frame = pd.read_csv(path, header=0)
    except (FileNotFoundError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise ValueError(f"{path}: not a readable split file ({err})") from None
    if frame.shape[1] != 1:
        raise ValueError(f"{path}: expected one column, found {frame.shape[1]}")
    order = frame.iloc[:, 0].to_numpy()
    if order.dtype.kind not in "iu" or len(order) != num_rows or not np.array_equal(np.sort(order), np.arange(num_rows)):
        raise ValueError(f"{path}: expected a header line and a permutation of the {num_rows} row indices, "
                         f"got {len(order)} values")
    return order.astype(np.int64)


def nfn_splits(order: np.ndarray, steps: np.ndarray, final_step: int = FINAL_STEP) -> dict[int, str]:
    """Row index -> ``train``/``val``/``test`` by the NFN rule (see the module docstring)."""
    final_rows = [int(r) for r in order if steps[r] == final_step]
    test_point = int(0.5 * len(final_rows))
    trainval = list(range(test_point))
    val_point = int(0.8 * len(trainval))
    random.Random(0).shuffle(trainval)
    split = {final_rows[i]: "test" for i in range(test_point, len(final_rows))}
    split.update({final_rows[i]: "train" for i in trainval[:val_point]})
    split.update({final_rows[i]: "val" for i in trainval[val_point:]})
    return split


def _plain(value: Any) -> Any:
    """A JSON-friendly Python value (NaN -> None)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def row_to_network(row: np.ndarray, layers: Sequence[LayerSlice], activation: str, stride: int, padding: int,
                   meta: dict[str, Any]) -> NetworkWeights:
    """One ``weights.npy`` row as a network: HWIO kernels -> ``(out, in, kh, kw)``, dense ``(in, out)``
    -> ``(out, in)``."""
    weights, biases = [], []
    for layer in layers:
        kernel = torch.from_numpy(np.array(row[layer.kernel[0]:layer.kernel[1]], dtype=np.float32))
        kernel = kernel.reshape(layer.kernel_shape)
        weights.append(kernel.permute(3, 2, 0, 1).contiguous() if kernel.dim() == 4 else kernel.t().contiguous())
        biases.append(torch.from_numpy(np.array(row[layer.bias[0]:layer.bias[1]], dtype=np.float32)))
    convs = [w.dim() == 4 for w in weights]
    return NetworkWeights(weights, biases, activation, strides=[stride if c else 1 for c in convs],
                          paddings=[padding if c else 0 for c in convs], pooling="avg", meta=meta)


def read_small_cnn_zoo(path: str | Path, *, step: int | None = FINAL_STEP, activations: Sequence[str] | None = None,
                       split_file: str | Path | None = None, stride: int = 2, nonfinite: str = "drop",
                       source: str | None = None) -> Iterator[NetworkWeights]:
    """Stream the networks of a Small CNN Zoo directory (memory-mapped ``weights.npy``).

    Args:
        step: keep only checkpoints at this ``step`` (``None``: all).
        activations: keep only these activations (e.g. ``["relu"]``); ``None``: all.
        split_file: an NFN ``split.csv``; default ``<zoo>/split.csv`` when present. Sets ``meta["split"]``.
        nonfinite: ``"drop"`` rows with NaN/inf weights (the benchmark convention; a warning names the
            count) or ``"error"``.
    Yields networks with ``meta``: ``id``, ``source``, ``score`` (test accuracy), ``train_accuracy``,
    ``step``, ``row``, ``hparams`` (the ``config.*`` columns) and ``split`` when a split file is used.
    """
    if nonfinite not in ("drop", "error"):
        raise ValueError(f"nonfinite must be 'drop' or 'error', got {nonfinite!r}")
    root = find_small_cnn_zoo(path)
    weights_path, metrics_path = _require(root / WEIGHTS_FILE), _require(root / METRICS_FILE)
    layers = read_layout(root / LAYOUT_FILE)
    try:
        weights = np.load(weights_path, mmap_mode="r")
    except (ValueError, OSError, EOFError) as err:
        raise ValueError(f"{weights_path}: unreadable ({err})") from None
    width = max(max(layer.bias[1], layer.kernel[1]) for layer in layers)
    if weights.ndim != 2 or weights.shape[1] != width:
        raise ValueError(f"{weights_path}: shape {weights.shape} but {root / LAYOUT_FILE} describes rows of {width} values")
    try:
        metrics = pd.read_csv(metrics_path, compression="gzip")
    except (OSError, EOFError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise ValueError(f"{metrics_path}: unreadable ({err})") from None
    missing = [c for c in REQUIRED_METRICS if c not in metrics.columns]
    if missing:
        raise ValueError(f"{metrics_path}: missing columns {missing}")
    if len(metrics) != weights.shape[0]:
        raise ValueError(f"{metrics_path}: {len(metrics)} rows but {weights_path} has {weights.shape[0]}")
    steps = np.array([_index(v, f"{metrics_path}: row {r}: step")
                      for r, v in enumerate(_numbers(metrics, "step", metrics_path))], dtype=np.int64)
    split_path = Path(split_file) if split_file is not None else root / SPLIT_FILE
    splits = (nfn_splits(read_split_file(split_path, len(metrics)), steps)
              if split_file is not None or split_path.is_file() else None)
    acts = metrics["config.activation"].astype(str).str.lower().to_numpy()
    unknown = [r for r, act in enumerate(acts) if act not in ACTIVATIONS]
    if unknown:
        raise ValueError(f"{metrics_path}: row {unknown[0]}: config.activation: "
                         f"{metrics['config.activation'].iloc[unknown[0]]!r} is not one of {list(ACTIVATIONS)}"
                         f" ({len(unknown)} such rows)")
    for column in ("test_accuracy", "train_accuracy"):
        if column in metrics:
            _numbers(metrics, column, metrics_path)
    config_columns = [c for c in metrics.columns if c.startswith("config.")]
    padding = (np.array([_index(v, f"{metrics_path}: row {r}: config.padding")
                         for r, v in enumerate(_numbers(metrics, "config.padding", metrics_path))])
               if "config.padding" in metrics.columns else np.zeros(len(metrics), dtype=np.int64))
    columns = {c: metrics[c].tolist() for c in ["test_accuracy", "train_accuracy", *config_columns] if c in metrics}
    name = source or root.name
    dropped = 0
    for r in range(len(metrics)):
        if (step is not None and steps[r] != step) or (activations is not None and acts[r] not in activations):
            continue
        row = weights[r]
        if not np.isfinite(row).all():
            if nonfinite == "error":
                raise ValueError(f"{weights_path}: row {r} has non-finite weights")
            dropped += 1
            continue
        meta = {"id": f"{name}-{r:07d}", "source": name, "row": r, "step": int(steps[r]),
                "score": _plain(columns["test_accuracy"][r]),
                "train_accuracy": _plain(columns["train_accuracy"][r]) if "train_accuracy" in columns else None,
                "hparams": {c[len("config."):]: _plain(columns[c][r]) for c in config_columns}}
        if splits is not None:
            meta["split"] = splits.get(r)
        yield row_to_network(row, layers, acts[r], stride, int(padding[r]), meta)
    if dropped:
        warnings.warn(f"{weights_path}: dropped {dropped} rows with non-finite weights", stacklevel=2)


def _layer_names(nets: Sequence[NetworkWeights]) -> list[str]:
    names, convs, dense = [], 0, 0
    for w in nets[0].weights:
        base = "conv2d" if w.dim() == 4 else "dense"
        index = convs if w.dim() == 4 else dense
        names.append(f"sequential/{base}" + (f"_{index}" if index else ""))
        convs, dense = (convs + 1, dense) if w.dim() == 4 else (convs, dense + 1)
    return names


def export_small_cnn_zoo(nets: Sequence[NetworkWeights], path: str | Path, dataset: str = "digits", *,
                         overwrite: bool = False, inputs: Sequence[str | Path] = ()) -> Path:
    """Write CNNs of one architecture (convs, global average pooling, dense) in the Small CNN Zoo
    format into directory ``path`` (replaced atomically; see :func:`scalegmn.io.atomic_dir` for
    ``overwrite`` and ``inputs``). ``step`` is written as 86, the final-checkpoint marker that readers of
    the format filter on; hyper-parameters come from ``meta["hparams"]``."""
    if not nets:
        raise ValueError("export_small_cnn_zoo: no networks")
    arch = nets[0].architecture
    for net in nets:
        if net.architecture != arch:
            raise ValueError(f"export_small_cnn_zoo: network {net.meta.get('id')} has architecture "
                             f"{net.architecture.key}, expected {arch.key} (one layout per file)")
        if net.pooling != "avg" or not net.is_conv[0]:
            raise ValueError(f"export_small_cnn_zoo: network {net.meta.get('id')} is not a CNN with average pooling")
    layout, offset = [], 0
    for name, w, b in zip(_layer_names(nets), nets[0].weights, nets[0].biases):
        kernel_shape = tuple(w.permute(2, 3, 1, 0).shape) if w.dim() == 4 else tuple(w.t().shape)
        for kind, shape in (("bias", tuple(b.shape)), ("kernel", kernel_shape)):
            size = math.prod(shape)
            layout.append({"varname": f"{name}/{kind}:0", "start_idx": offset, "end_idx": offset + size,
                           "shape": str(shape)})
            offset += size
    rows = np.empty((len(nets), offset), dtype=np.float32)
    records = []
    for i, net in enumerate(nets):
        pieces = []
        for w, b in zip(net.weights, net.biases):
            kernel = w.permute(2, 3, 1, 0) if w.dim() == 4 else w.t()
            pieces += [b.detach().float().reshape(-1), kernel.detach().float().reshape(-1)]
        rows[i] = torch.cat(pieces).numpy()
        hp = net.meta.get("hparams", {})
        records.append({
            "config.activation": net.activation, "config.b_init": "zeros", "config.dataset": dataset,
            "config.dnn_architecture": "cnn", "config.dropout": hp.get("dropout"), "config.epochs": hp.get("epochs"),
            "config.epochs_between_checkpoints": hp.get("epochs"), "config.init_std": hp.get("init_std"),
            "config.l2reg": hp.get("l2reg"), "config.learning_rate": hp.get("learning_rate"),
            "config.num_layers": arch.num_convs, "config.num_units": arch.layer_sizes[1],
            "config.optimizer": hp.get("optimizer"), "config.random_seed": hp.get("seed"),
            "config.train_fraction": hp.get("train_fraction"), "config.w_init": hp.get("init"),
            "config.padding": net.paddings[0], "modeldir": net.meta.get("id", str(i)), "step": FINAL_STEP,
            "test_accuracy": net.meta.get("score"), "test_loss": net.meta.get("test_loss"),
            "train_accuracy": net.meta.get("train_accuracy"), "train_loss": None})
    with atomic_dir(path, "small-cnn-zoo", overwrite=overwrite, inputs=inputs) as tmp:
        tmp.mkdir()
        with open(tmp / WEIGHTS_FILE, "wb") as f:
            np.save(f, rows)
        pd.DataFrame(records).to_csv(tmp / METRICS_FILE, index=False, compression="gzip")
        pd.DataFrame(layout).to_csv(tmp / LAYOUT_FILE, index=False)
    return Path(path)
