"""The shard-backed graph dataset: Arrow IPC shards memory-mapped, decoded many rows at a time.

Opening checks the metadata (schema version), that every listed shard exists with its recorded size
and row count and opens as an Arrow file, and its SHA-256: by default once per file version (see
:mod:`scalegmn.store.verified`), always with ``verify=True``, never with ``verify=False``; any failure is
a ``ValueError`` naming the shard. Batches of rows that share one architecture are decoded at once: the
flat weights of all rows become one ``(B, P)`` array, the edge features are gathered from it through
an index cached per architecture, and the graphs go through ``scalegmn.graph.collate``'s shared
``edge_index`` path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import torch
from torch import Tensor
from torch_geometric.data import Batch

from scalegmn.graph import ACTIVATION_IDS, GROUP_IDS, collate, graph_structure
from scalegmn.io import file_sha256
from scalegmn.store.dataset import FRAME_COLUMNS, GraphDatasetBase
from scalegmn.store.metadata import architecture_from_dict, params_hash, read_metadata
from scalegmn.store.rows import arrow_schema, network_from_row
from scalegmn.store.verified import mark_verified, unverified
from scalegmn.symmetry import SCALING_GROUPS
from scalegmn.weights import Architecture, NetworkWeights


@dataclass(frozen=True)
class _FloatRows:
    """The floats of a ``list<list<float>>`` column as one flat vector per row, read from the memory map."""

    values: list[np.ndarray]  # per record batch, a read-only view of all its floats
    chunk: np.ndarray  # per row, its record batch
    start: np.ndarray  # per row, its first float in that batch's values
    length: np.ndarray  # per row, its number of floats

    @classmethod
    def build(cls, batches: list[pa.RecordBatch], name: str) -> "_FloatRows":
        values, chunk, start, length = [], [], [], []
        for c, batch in enumerate(batches):
            column = batch.column(name)
            outer = column.offsets.to_numpy()
            inner = column.values.offsets.to_numpy()
            values.append(column.values.values.to_numpy(zero_copy_only=True))
            chunk.append(np.full(len(column), c))
            start.append(inner[outer[:-1]])
            length.append(inner[outer[1:]] - inner[outer[:-1]])
        return cls(values, np.concatenate(chunk), np.concatenate(start), np.concatenate(length))

    def gather(self, rows: np.ndarray, width: int, lead: int = 0, trail: int = 0) -> np.ndarray:
        """``(len(rows), lead + width + trail)``: each row's ``width`` floats between ``lead`` zeros and
        ``trail`` zeros (a fresh, writable array); every row must hold exactly ``width`` floats."""
        if (self.length[rows] != width).any():
            raise ValueError(f"rows {rows.tolist()} do not all hold {width} floats")
        out = np.zeros((len(rows), lead + width + trail), dtype=self.values[0].dtype)
        for i, (c, s) in enumerate(zip(self.chunk[rows].tolist(), self.start[rows].tolist())):
            out[i, lead : lead + width] = self.values[c][s : s + width]
        return out


@dataclass(frozen=True)
class _DecodePlan:
    """Per architecture: where each edge feature comes from in a network's flat weight vector."""

    arch: Architecture
    num_inputs: int
    num_weights: int
    num_biases: int
    gather: np.ndarray  # (E * K,) indices into [flat weights, 0]; index num_weights is the zero padding

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
        return cls(arch, sizes[0], num_weights, sum(sizes[1:]), gather.reshape(-1).numpy())


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


BATCH_COLUMNS: tuple[str, ...] = ("arch_key", "activation", "w0", "output_offset", "leaky_slope", "meta", "label",
                                  "score")


class GraphDataset(GraphDatasetBase):
    """A graph dataset directory written by :func:`scalegmn.store.shards.write_dataset`, memory-mapped."""

    def __init__(self, path: str | Path, verify: bool | None = None) -> None:
        self.path = Path(path)
        self.metadata: dict[str, Any] = read_metadata(self.path)
        schema = arrow_schema(self.metadata["dtype"])
        files = [(self.path / e["file"], e["sha256"]) for e in self.metadata["shards"]]
        for shard, _ in files:
            if not shard.is_file():
                raise ValueError(f"{shard}: shard missing")
        to_hash = {p for p, _ in files} if verify else unverified(files) if verify is None else set()
        tables = [self._open_shard(entry, schema, path in to_hash)
                  for entry, (path, _) in zip(self.metadata["shards"], files)]
        if verify is not False:
            mark_verified(files)
        self.table = pa.concat_tables(tables)
        if self.table.num_rows != self.metadata["num_rows"]:
            raise ValueError(
                f"{self.path}: shards hold {self.table.num_rows} rows, metadata says {self.metadata['num_rows']}"
            )
        self._plans: dict[str, _DecodePlan] = {}
        self._batches = self.table.to_batches()
        self._batch_starts = np.cumsum([0] + [b.num_rows for b in self._batches])

    def _open_shard(self, entry: dict[str, Any], schema: pa.Schema, verify: bool) -> pa.Table:
        shard = self.path / entry["file"]
        size = shard.stat().st_size
        if size != entry["bytes"]:
            raise ValueError(
                f"{shard}: {size} bytes but the metadata says {entry['bytes']} (truncated or modified shard)"
            )
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

    def content_fingerprint(self) -> str:
        """From the metadata's shard checksums (no file is read; the checksums are verified on open)."""
        shards = [[e["file"], e["rows"], e["sha256"]] for e in self.metadata["shards"]]
        return params_hash({"schema_version": self.metadata["schema_version"], "shards": shards})

    @cached_property
    def _weights(self) -> _FloatRows:
        return _FloatRows.build(self._batches, "weights")

    @cached_property
    def _biases(self) -> _FloatRows:
        return _FloatRows.build(self._batches, "biases")

    def network(self, index: int) -> NetworkWeights:
        index = self._check_index(int(index))
        record = self.table.slice(index, 1).drop_columns(["weights", "biases"]).to_pylist()[0]
        shapes = record["weight_shapes"]
        row = np.array([index])
        for name, rows, sizes in (("weights", self._weights, [int(np.prod(s)) for s in shapes]),
                                  ("biases", self._biases, [s[0] for s in shapes])):
            flat = rows.gather(row, sum(sizes))[0]
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

    def _take(self, rows: np.ndarray) -> pa.Table:
        """The :data:`BATCH_COLUMNS` of ``rows`` in order, taken record batch by record batch (the cost
        grows with ``len(rows)``, not with the dataset as a ``take`` over the whole chunked table does)."""
        chunk = np.searchsorted(self._batch_starts, rows, side="right") - 1
        order = np.argsort(chunk, kind="stable")
        pieces = []
        for c in np.unique(chunk):
            local = rows[order][chunk[order] == c] - self._batch_starts[c]
            pieces.append(self._batches[c].select(list(BATCH_COLUMNS)).take(pa.array(local)))
        gathered = pa.Table.from_batches(pieces).combine_chunks()
        return gathered.take(pa.array(np.argsort(order, kind="stable")))

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
        index = np.asarray(rows, dtype=np.int64)
        sub = self._take(index)
        keys = sub.column("arch_key").unique()
        if len(keys) != 1:
            return super().batch(rows)
        plan = self._plan(keys[0].as_py())
        b = len(rows)
        x = torch.from_numpy(self._biases.gather(index, plan.num_biases, lead=plan.num_inputs)).unsqueeze(2)
        padded = self._weights.gather(index, plan.num_weights, trail=1)
        edge_attr = torch.from_numpy(padded[:, plan.gather]).reshape(b, -1, self.edge_dim)
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
        batch.index = torch.from_numpy(index)
        return batch


def open_dataset(path: str | Path, verify: bool | None = None) -> GraphDataset:
    """Open a graph dataset directory; shards' SHA-256 checked once per file version (``None``), always
    (``True``) or never (``False``). A published folder (``scalegmn publish``) or a Hub dataset id string
    ``ORG/NAME`` is loaded with ``datasets`` and converted once (see :mod:`scalegmn.store.hub`)."""
    from scalegmn.store import hub  # imported here: hub converts through the shard writer and this module

    if hub.is_hub_source(path):
        return hub.open_hub_dataset(path, verify=verify)
    return GraphDataset(path, verify=verify)
