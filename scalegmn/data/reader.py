"""The shard-backed graph dataset: Arrow IPC shards memory-mapped, decoded many rows at a time.

Opening checks the metadata (schema version), that every listed shard exists with its recorded size
and row count and opens as an Arrow file, and its SHA-256: by default once per file version (see
:mod:`scalegmn.data.verified`), always with ``verify=True``, never with ``verify=False``; any failure is
a ``ValueError`` naming the shard. Batches of rows that share one architecture are decoded at once: the
flat weights of all rows become one ``(B, P)`` array read as a
:class:`~scalegmn.core.weight_batch.WeightBatch`, whose graph features go through
:func:`scalegmn.core.graph.batch_of_architecture` (the shared ``edge_index`` path of ``collate``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import torch
from torch_geometric.data import Batch

from scalegmn.core.graph import batch_of_architecture
from scalegmn.io import file_sha256
from scalegmn.data.dataset import FRAME_COLUMNS, GraphDatasetBase
from scalegmn.data.metadata import architecture_from_dict, params_hash, read_metadata
from scalegmn.data.rows import arrow_schema, network_from_row
from scalegmn.data.verified import mark_verified, unverified
from scalegmn.core.weight_batch import WeightBatch
from scalegmn.core.weights import Architecture, NetworkWeights


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

    def gather(self, rows: np.ndarray, width: int) -> np.ndarray:
        """``(len(rows), width)``: each row's ``width`` floats (a fresh, writable array); every row must hold
        exactly ``width`` floats."""
        if (self.length[rows] != width).any():
            raise ValueError(f"rows {rows.tolist()} do not all hold {width} floats")
        out = np.empty((len(rows), width), dtype=self.values[0].dtype)
        for i, (c, s) in enumerate(zip(self.chunk[rows].tolist(), self.start[rows].tolist())):
            out[i] = self.values[c][s : s + width]
        return out


BATCH_COLUMNS: tuple[str, ...] = ("arch_key", "activation", "w0", "output_offset", "leaky_slope", "meta", "label",
                                  "score")


class GraphDataset(GraphDatasetBase):
    """A graph dataset directory written by :func:`scalegmn.data.shards.write_dataset`, memory-mapped."""

    def __init__(self, path: str | Path, verify: bool | None = None, transform: Any = None) -> None:
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
        self._archs: dict[str, Architecture] = {}
        self._batches = self.table.to_batches()
        self._batch_starts = np.cumsum([0] + [b.num_rows for b in self._batches])
        super().__init__(transform)

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

    def len(self) -> int:
        return self.table.num_rows

    def _whole_fingerprint(self) -> str:
        """From the metadata's shard checksums (no file is read; the checksums are verified on open)."""
        shards = [[e["file"], e["rows"], e["sha256"]] for e in self.metadata["shards"]]
        return params_hash({"schema_version": self.metadata["schema_version"], "shards": shards})

    @cached_property
    def _weights(self) -> _FloatRows:
        return _FloatRows.build(self._batches, "weights")

    @cached_property
    def _biases(self) -> _FloatRows:
        return _FloatRows.build(self._batches, "biases")

    def network_at(self, row: int) -> NetworkWeights:
        index = int(row)
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

    def _all_rows(self) -> pd.DataFrame:
        return self._frame

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

    def _architecture(self, key: str) -> Architecture:
        if key not in self._archs:
            self._archs[key] = architecture_from_dict(self.metadata["architectures"][key])
        return self._archs[key]

    def _decode(self, rows: np.ndarray) -> Batch:
        """Whole-dataset ``rows`` decoded at once when they share one architecture: their flat weights
        become one :class:`~scalegmn.core.weight_batch.WeightBatch` whose graph features feed
        :func:`scalegmn.core.graph.batch_of_architecture` (exactly the collated ``get`` graphs; tested)."""
        index = np.asarray(rows, dtype=np.int64)
        sub = self._take(index)
        keys = sub.column("arch_key").unique()
        if len(keys) != 1:
            return super()._decode(index)
        arch = self._architecture(keys[0].as_py())
        flat_w = self._weights.gather(index, int(self._weights.length[index[0]]))
        flat_b = self._biases.gather(index, int(self._biases.length[index[0]]))
        params = WeightBatch.from_flat(arch, torch.from_numpy(flat_w), torch.from_numpy(flat_b))
        x, edge_attr = params.features(self.edge_dim)
        cols = sub.select(["activation", "w0", "output_offset", "leaky_slope", "meta"]).to_pydict()
        batch = batch_of_architecture(arch, x.reshape(-1, 1), edge_attr.reshape(-1, self.edge_dim),
                                      cols["activation"], cols["w0"], cols["output_offset"], cols["leaky_slope"],
                                      cols["meta"])
        batch.score = torch.from_numpy(sub.column("score").to_numpy().astype(np.float32))
        batch.label = torch.from_numpy(sub.column("label").to_numpy().astype(np.int64))
        batch.dataset_row = torch.from_numpy(index.copy())
        batch.y = batch[self.target_name]
        return batch


def open_dataset(path: str | Path, verify: bool | None = None, transform: Any = None) -> GraphDataset:
    """Open a graph dataset as a PyG ``Dataset`` (``transform`` applied to every item): a dataset directory,
    whose shards' SHA-256 are checked once per file version (``verify=None``), always (``True``) or never
    (``False``); or a published folder (``scalegmn publish``) or Hub dataset id ``ORG/NAME``, loaded with
    ``datasets`` and converted once (see :mod:`scalegmn.data.hub`)."""
    from scalegmn.data import hub  # imported here: hub converts through the shard writer and this module

    if hub.is_hub_source(path):
        dataset = hub.open_hub_dataset(path, verify=verify)
        dataset.transform = transform
        return dataset
    return GraphDataset(path, verify=verify, transform=transform)
