"""The graph dataset interface (shared by the shard-backed and the in-memory dataset) and its loader.

``ds[i]`` is exactly ``scalegmn.graph.to_graph(net, edge_dim)`` of the ``i``-th network (``edge_dim``: the
dataset's widest edge feature, so all graphs of a dataset have the same ``edge_attr`` width) plus three
graph-level tensors: ``score`` float32 ``(1,)`` (NaN if absent), ``label`` int64 ``(1,)`` (-1 if absent)
and ``index`` int64 ``(1,)`` (the row). Batches are ``scalegmn.graph.collate`` batches carrying
``score``, ``label`` and ``index`` of shape ``(num_graphs,)``.
"""

from __future__ import annotations

import abc
import hashlib
import json
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor
from torch_geometric.data import Batch, Data

from scalegmn.graph import collate, to_graph
from scalegmn.store.metadata import DatasetStats
from scalegmn.store.rows import SPLITS, summary_fields
from scalegmn.weights import NetworkWeights

TARGETS: tuple[str, ...] = ("score", "label", "index")
FRAME_COLUMNS: tuple[str, ...] = (
    "row", "id", "source_id", "aug_seed", "split", "activation", "label", "score", "arch_key",
)


def attach_targets(graph: Data, score: float, label: int, index: int) -> Data:
    """Add the graph-level ``score``/``label``/``index`` tensors to a graph (in place; returns it)."""
    graph.score = torch.tensor([score], dtype=torch.float32)
    graph.label = torch.tensor([label], dtype=torch.long)
    graph.index = torch.tensor([index], dtype=torch.long)
    return graph


def collate_graphs(graphs: Sequence[Data]) -> Batch:
    """``scalegmn.graph.collate`` plus the concatenated ``score``, ``label`` and ``index`` tensors."""
    batch = collate(list(graphs))
    for key in TARGETS:
        batch[key] = torch.cat([g[key] for g in graphs])
    return batch


class GraphDatasetBase(abc.ABC):
    """A sequence of network graphs with stored splits. Subclasses provide rows, networks and metadata."""

    metadata: dict[str, Any]

    @abc.abstractmethod
    def __len__(self) -> int: ...

    @abc.abstractmethod
    def network(self, index: int) -> NetworkWeights:
        """The exact network of row ``index``."""

    @abc.abstractmethod
    def frame(self) -> pd.DataFrame:
        """One row per network, columns :data:`FRAME_COLUMNS`."""

    @abc.abstractmethod
    def content_fingerprint(self) -> str:
        """SHA-256 identifying the rows' content and splits (equal datasets, equal fingerprints)."""

    @property
    def edge_dim(self) -> int:
        """Width of ``edge_attr`` of every graph of the dataset."""
        return int(self.metadata["edge_feature_dim"])

    def _check_index(self, index: int) -> int:
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"row {index} out of range for a dataset of {n} networks")
        return index % n

    def __getitem__(self, index: int) -> Data:
        index = self._check_index(int(index))
        net = self.network(index)
        fields = summary_fields(net, "", str(index))
        return attach_targets(to_graph(net, self.edge_dim), fields["score"], fields["label"], index)

    def batch(self, indices: Sequence[int]) -> Batch:
        """The collated batch of rows ``indices`` (subclasses may decode many rows at once)."""
        return collate_graphs([self[i] for i in indices])

    def get_idx_split(self) -> dict[str, Tensor]:
        """Row indices of each split, ``{"train", "val", "test"}`` -> ``LongTensor`` (ascending)."""
        split = self.frame()["split"].to_numpy()
        return {name: torch.from_numpy(np.flatnonzero(split == name)).long() for name in SPLITS}

    def loader(
        self,
        indices: Sequence[int] | Tensor | None = None,
        batch_size: int = 32,
        shuffle: bool = False,
        seed: int = 0,
        drop_last: bool = False,
    ) -> "GraphLoader":
        """Batches of the rows ``indices`` (all rows if ``None``); see :class:`GraphLoader`."""
        rows = torch.arange(len(self)) if indices is None else torch.as_tensor(indices, dtype=torch.long).reshape(-1)
        return GraphLoader(self, rows, batch_size, shuffle, seed, drop_last)


class GraphLoader:
    """Iterates PyG batches of a dataset's rows.

    With ``shuffle`` the order comes from a generator seeded once with ``seed``: every pass (epoch) over
    the loader draws a new permutation, and the whole sequence of epochs is the same for a given seed.
    """

    def __init__(self, dataset: GraphDatasetBase, rows: Tensor, batch_size: int, shuffle: bool, seed: int,
                 drop_last: bool) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.dataset = dataset
        self.rows = rows
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        n = len(self.rows)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[Batch]:
        rows = self.rows[torch.randperm(len(self.rows), generator=self.generator)] if self.shuffle else self.rows
        for b in range(len(self)):
            chunk = rows[b * self.batch_size : (b + 1) * self.batch_size]
            yield self.dataset.batch(chunk.tolist())


class InMemoryGraphDataset(GraphDatasetBase):
    """A graph dataset over networks held in memory, with the interface of the shard-backed dataset.

    ``splits`` maps ``"train"``/``"val"``/``"test"`` to row indices (rows in none of them get split ``""``).
    """

    def __init__(self, nets: list[NetworkWeights], splits: dict[str, list[int]]) -> None:
        if not nets:
            raise ValueError("an in-memory graph dataset needs at least one network")
        unknown = set(splits) - set(SPLITS)
        if unknown:
            raise ValueError(f"unknown split names {sorted(unknown)}; expected {', '.join(SPLITS)}")
        self.nets = list(nets)
        self.splits = [""] * len(self.nets)
        for name, rows in splits.items():
            for row in rows:
                if not 0 <= int(row) < len(self.nets):
                    raise ValueError(f"split {name!r}: row {row} out of range for {len(self.nets)} networks")
                if self.splits[int(row)]:
                    raise ValueError(f"row {row} is in splits {self.splits[int(row)]!r} and {name!r}")
                self.splits[int(row)] = name
        stats = DatasetStats()
        for i, (net, split) in enumerate(zip(self.nets, self.splits)):
            stats.add(net, split, f"network {i}")
        self.metadata = {**stats.to_dict(), "source": {"kind": "in-memory"}}
        self._frame: pd.DataFrame | None = None

    def __len__(self) -> int:
        return len(self.nets)

    def content_fingerprint(self) -> str:
        digest = hashlib.sha256()
        for net, split in zip(self.nets, self.splits):
            fields = [split, net.activation, net.strides, net.paddings, net.pooling, net.w0, net.output_offset,
                      net.leaky_slope, net.meta]
            digest.update(json.dumps(fields, sort_keys=True, default=str).encode())
            for t in (*net.weights, *net.biases):
                digest.update(str(tuple(t.shape)).encode())
                digest.update(t.detach().cpu().contiguous().numpy().tobytes())
        return digest.hexdigest()

    def network(self, index: int) -> NetworkWeights:
        return self.nets[self._check_index(int(index))]

    def frame(self) -> pd.DataFrame:
        if self._frame is None:
            records = [
                {"row": i, **summary_fields(net, split, str(i))}
                for i, (net, split) in enumerate(zip(self.nets, self.splits))
            ]
            self._frame = pd.DataFrame.from_records(records, columns=list(FRAME_COLUMNS))
        return self._frame.copy()

