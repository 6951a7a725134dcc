"""The shard-backed graph dataset: Arrow IPC shards memory-mapped, decoded many rows at a time.

Opening checks the metadata (schema version), that every listed shard exists with its recorded size
and row count and opens as an Arrow file, and (``verify=True``) its SHA-256; any failure is a
``ValueError`` naming the shard. Batches of rows that share one architecture are decoded at once: the
flat weights of all rows become one ``(B, P)`` array, the edge features are gathered from it through
an index cached per architecture, and the graphs go through ``scalegmn.graph.collate``'s shared
``edge_index`` path.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import torch
from torch import Tensor
from torch_geometric.data import Batch

from scalegmn.graph import ACTIVATION_IDS, GROUP_IDS, collate, graph_structure
from scalegmn.store.dataset import FRAME_COLUMNS, GraphDatasetBase
from scalegmn.store.metadata import architecture_from_dict, read_metadata
from scalegmn.store.rows import NUMPY_DTYPES, arrow_schema, network_from_row
from scalegmn.store.shards import file_sha256
from scalegmn.symmetry import SCALING_GROUPS
from scalegmn.weights import Architecture, NetworkWeights


def _values(column: pa.ChunkedArray, np_dtype: np.dtype) -> np.ndarray:
    """All floats of a ``list<list<float>>`` column, row after row, as one writable array."""
    return np.array(column.combine_chunks().flatten().flatten().to_numpy(zero_copy_only=False), dtype=np_dtype)


@dataclass(frozen=True)
class _DecodePlan:
    """Per architecture: where each edge feature comes from in a network's flat weight vector."""

    arch: Architecture
    num_inputs: int
    num_weights: int
    num_biases: int
    gather: Tensor  # (E * K,) indices into [flat weights, 0]; index num_weights is the zero padding

    @classmethod
    def build(cls, arch: Architecture, edge_dim: int) -> "_DecodePlan":
        s = graph_structure(arch)
        sizes = arch.layer_sizes
        gather = torch.empty(s.edge_offsets[-1], edge_dim, dtype=torch.long)
        num_weights = sum(sizes[l] * sizes[l + 1] * s.edge_widths[l] for l in range(arch.num_layers))
        gather.fill_(num_weights)
        start = 0
        for l in range(arch.num_layers):
            n_edges, width = s.edge_offsets[l + 1] - s.edge_offsets[l], s.edge_widths[l]
            block = torch.arange(start, start + n_edges * width).reshape(n_edges, width)
            gather[s.edge_offsets[l] : s.edge_offsets[l + 1], :width] = block
            start += n_edges * width
        return cls(arch, sizes[0], num_weights, sum(sizes[1:]), gather.reshape(-1))


@dataclass(frozen=True)
class _RowGraph:
    """The attributes of one graph that ``collate``'s shared-architecture path reads (cheaper than a ``Data``)."""

    x: Tensor
    edge_attr: Tensor
    act: Tensor
    group: Tensor
    arch: Architecture
    activation: str
    w0: float
    output_offset: float
    leaky_slope: float
    meta: str


BATCH_COLUMNS: tuple[str, ...] = ("arch_key", "weights", "biases", "activation", "w0", "output_offset", "leaky_slope",
                                  "meta", "label", "score")


class GraphDataset(GraphDatasetBase):
    """A graph dataset directory written by :func:`scalegmn.store.shards.write_dataset`, memory-mapped."""

    def __init__(self, path: str | Path, verify: bool = False) -> None:
        self.path = Path(path)
        self.metadata: dict[str, Any] = read_metadata(self.path)
        schema = arrow_schema(self.metadata["dtype"])
        tables = [self._open_shard(entry, schema, verify) for entry in self.metadata["shards"]]
        self.table = pa.concat_tables(tables)
        if self.table.num_rows != self.metadata["num_rows"]:
            raise ValueError(f"{self.path}: shards hold {self.table.num_rows} rows, metadata says {self.metadata['num_rows']}")
        self._np_dtype = NUMPY_DTYPES[self.metadata["dtype"]]
        self._torch_dtype = torch.from_numpy(np.zeros(0, dtype=self._np_dtype)).dtype
        self._plans: dict[str, _DecodePlan] = {}
        self._batch_table = self.table.select(list(BATCH_COLUMNS))

    def _open_shard(self, entry: dict[str, Any], schema: pa.Schema, verify: bool) -> pa.Table:
        shard = self.path / entry["file"]
        if not shard.is_file():
            raise ValueError(f"{shard}: shard missing")
        size = shard.stat().st_size
        if size != entry["bytes"]:
            raise ValueError(f"{shard}: {size} bytes but the metadata says {entry['bytes']} (truncated or modified shard)")
        if verify and file_sha256(shard) != entry["sha256"]:
            raise ValueError(f"{shard}: SHA-256 does not match the metadata (corrupt shard)")
        try:
            table = pa.ipc.open_file(pa.memory_map(str(shard))).read_all()
        except (pa.ArrowException, OSError) as err:
            raise ValueError(f"{shard}: unreadable Arrow shard ({err})") from None
        if table.num_rows != entry["rows"] or not table.schema.equals(schema):
            raise ValueError(f"{shard}: {table.num_rows} rows / schema differ from the metadata (corrupt shard)")
        return table

    def __len__(self) -> int:
        return self.table.num_rows

    def network(self, index: int) -> NetworkWeights:
        index = self._check_index(int(index))
        row = self.table.slice(index, 1)
        record = row.drop_columns(["weights", "biases"]).to_pylist()[0]
        for name in ("weights", "biases"):
            flat = _values(row.column(name), self._np_dtype)
            sizes = [int(np.prod(s)) for s in record["weight_shapes"]] if name == "weights" else [s[0] for s in record["weight_shapes"]]
            record[name] = np.split(flat, np.cumsum(sizes)[:-1])
        return network_from_row(record)

    @cached_property
    def _frame(self) -> pd.DataFrame:
        frame = self.table.select(list(FRAME_COLUMNS[1:])).to_pandas()
        frame.insert(0, "row", np.arange(len(frame)))
        return frame

    def frame(self) -> pd.DataFrame:
        return self._frame.copy()

    def get_idx_split(self) -> dict[str, Tensor]:
        split = self._frame["split"].to_numpy()
        return {name: torch.from_numpy(np.flatnonzero(split == name)).long() for name in self.metadata["split_sizes"]}

    def _plan(self, key: str) -> _DecodePlan:
        if key not in self._plans:
            arch = architecture_from_dict(self.metadata["architectures"][key])
            self._plans[key] = _DecodePlan.build(arch, self.edge_dim)
        return self._plans[key]

    def batch(self, indices: Sequence[int]) -> Batch:
        """Rows ``indices`` collated; one-architecture batches are decoded all at once.

        Gives exactly ``collate_graphs([self[i] for i in indices])`` (tested); the one-architecture path
        hands ``collate`` light graph records holding just what its shared-``edge_index`` path reads.
        """
        rows = [self._check_index(int(i)) for i in indices]
        sub = self._batch_table.take(pa.array(rows, type=pa.int64()))
        keys = sub.column("arch_key").unique()
        if len(keys) != 1:
            return super().batch(rows)
        plan = self._plan(keys[0].as_py())
        b = len(rows)
        weights = torch.from_numpy(_values(sub.column("weights"), self._np_dtype)).reshape(b, plan.num_weights)
        biases = torch.from_numpy(_values(sub.column("biases"), self._np_dtype)).reshape(b, plan.num_biases)
        x = torch.cat([torch.zeros(b, plan.num_inputs, dtype=self._torch_dtype), biases], dim=1).unsqueeze(2)
        padded = torch.cat([weights, torch.zeros(b, 1, dtype=self._torch_dtype)], dim=1)
        edge_attr = padded[:, plan.gather].reshape(b, -1, self.edge_dim)
        cols = sub.select(["activation", "w0", "output_offset", "leaky_slope", "meta"]).to_pydict()
        act = [ACTIVATION_IDS[a] for a in cols["activation"]]
        group = [GROUP_IDS[SCALING_GROUPS[a]] for a in cols["activation"]]
        graphs = [
            _RowGraph(x[i], edge_attr[i], torch.tensor(act[i : i + 1]), torch.tensor(group[i : i + 1]), plan.arch,
                      cols["activation"][i], cols["w0"][i], cols["output_offset"][i], cols["leaky_slope"][i],
                      cols["meta"][i])
            for i in range(b)
        ]
        batch = collate(graphs)  # type: ignore[arg-type]
        batch.score = torch.from_numpy(sub.column("score").to_numpy().astype(np.float32))
        batch.label = torch.from_numpy(sub.column("label").to_numpy().astype(np.int64))
        batch.index = torch.tensor(rows, dtype=torch.long)
        return batch


def open_dataset(path: str | Path, verify: bool = False) -> GraphDataset:
    """Open a graph dataset directory (``verify=True`` also checks every shard's SHA-256)."""
    return GraphDataset(path, verify=verify)
