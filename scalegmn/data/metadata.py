"""Dataset metadata: what a graph dataset holds (schema version, dtype, architectures, feature dims,
split sizes, counts), accumulated network by network while a dataset is written."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scalegmn.core.graph import graph_structure
from scalegmn.data.rows import SCHEMA_VERSION, SPLITS, dtype_name
from scalegmn.core.weights import Architecture, NetworkWeights

METADATA_FILE = "metadata.json"
FORMAT = "scalegmn-graph-dataset"


def params_hash(params: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of ``params`` (the knobs that produced a dataset)."""
    return hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()


def architecture_to_dict(arch: Architecture) -> dict[str, Any]:
    s = graph_structure(arch)
    return {
        "layer_sizes": list(arch.layer_sizes),
        "kernel_shapes": [None if k is None else list(k) for k in arch.kernel_shapes],
        "strides": list(arch.strides),
        "paddings": list(arch.paddings),
        "pooling": arch.pooling,
        "flatten_size": arch.flatten_size,
        "num_nodes": s.num_nodes,
        "num_edges": s.edge_offsets[-1],
        "edge_dim": s.edge_dim,
    }


@dataclass
class DatasetStats:
    """Counts gathered from the networks of a dataset, in order."""

    dtype: str | None = None
    rows: int = 0
    copies: int = 0
    splits: Counter = field(default_factory=Counter)
    activations: Counter = field(default_factory=Counter)
    architectures: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, net: NetworkWeights, split: str, where: str) -> None:
        """Count one network; ``ValueError`` naming ``where`` if its dtype differs from the first one."""
        name = dtype_name(net.dtype)
        if self.dtype is None:
            self.dtype = name
        elif name != self.dtype:
            raise ValueError(f"{where}: dtype {name} differs from the dataset's {self.dtype}")
        key = net.architecture.key
        if key not in self.architectures:
            self.architectures[key] = architecture_to_dict(net.architecture)
        self.rows += 1
        self.copies += "aug_seed" in net.meta
        self.splits[split] += 1
        self.activations[net.activation] += 1

    def to_dict(self) -> dict[str, Any]:
        """The dataset-describing part of the metadata (no provenance)."""
        edge_dim = max((a["edge_dim"] for a in self.architectures.values()), default=1)
        return {
            "format": FORMAT,
            "schema_version": SCHEMA_VERSION,
            "num_rows": self.rows,
            "num_copies": self.copies,
            "dtype": self.dtype,
            "node_feature_dim": 1,
            "edge_feature_dim": edge_dim,
            "split_sizes": {s: self.splits.get(s, 0) for s in SPLITS},
            "activations": dict(sorted(self.activations.items())),
            "architectures": self.architectures,
        }


def read_metadata(directory: str | Path) -> dict[str, Any]:
    """The metadata of a dataset directory; ``ValueError`` naming the file if missing, invalid or of
    another schema version (a directory without it was never completely written)."""
    path = Path(directory) / METADATA_FILE
    if not path.is_file():
        raise ValueError(
            f"{path}: missing; {directory} is not a complete graph dataset (was the shard stage interrupted?)"
        )
    try:
        meta = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{path}: not a scalegmn graph dataset")
    if meta.get("schema_version") != SCHEMA_VERSION:
        raise ValueError(
            f"{path}: schema version {meta.get('schema_version')} but this code reads version {SCHEMA_VERSION}; "
            "rebuild the dataset with the shard stage"
        )
    return meta


def architecture_from_dict(d: dict[str, Any]) -> Architecture:
    """The inverse of :func:`architecture_to_dict` (extra keys ignored)."""
    return Architecture(
        layer_sizes=tuple(d["layer_sizes"]),
        kernel_shapes=tuple(None if k is None else (int(k[0]), int(k[1])) for k in d["kernel_shapes"]),
        strides=tuple(d["strides"]),
        paddings=tuple(d["paddings"]),
        pooling=d["pooling"],
        flatten_size=int(d["flatten_size"]),
    )
