"""Graph datasets as ``torch_geometric.data.Dataset`` s (shard-backed and in-memory share this base).

``ds[i]`` is exactly ``scalegmn.core.graph.to_graph(net, edge_dim)`` of the ``i``-th network (``edge_dim``: the
dataset's widest edge feature, so all graphs of a dataset have the same ``edge_attr`` width) plus the
graph-level tensors ``score`` float32 ``(1,)`` (NaN if absent), ``label`` int64 ``(1,)`` (-1 if absent),
``dataset_row`` int64 ``(1,)`` (the network's row in the whole dataset, kept by views and transforms; not named
``*index*``, which PyG would offset when batching) and ``y``
(the dataset's target: ``label`` when any network has one, else ``score``), then passed through
``transform``. As in PyG, an int gives a graph and a slice, list, tensor or array gives a view (a
dataset of those networks); every other method (``network``, ``frame``, ``batch``, ``get_idx_split``)
takes positions in this view. Batches are ``scalegmn.core.graph.collate`` batches carrying ``score``,
``label``, ``dataset_row`` and ``y`` of shape ``(num_graphs,)``.
"""

from __future__ import annotations

import abc
import hashlib
import json
from collections.abc import Sequence
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor
from torch_geometric.data import Batch, Data, Dataset

from scalegmn.core.graph import collate, to_graph
from scalegmn.data.metadata import DatasetStats
from scalegmn.data.rows import SPLITS, summary_fields
from scalegmn.core.weights import NetworkWeights

TARGETS: tuple[str, ...] = ("score", "label", "dataset_row", "y")
FRAME_COLUMNS: tuple[str, ...] = (
    "row", "id", "source_id", "aug_seed", "split", "activation", "label", "score", "arch_key",
)


def collate_graphs(graphs: Sequence[Data]) -> Batch:
    """``scalegmn.core.graph.collate`` plus the concatenated graph-level targets (:data:`TARGETS`)."""
    batch = collate(list(graphs))
    for key in TARGETS:
        batch[key] = torch.cat([g[key] for g in graphs])
    return batch


class GraphDatasetBase(Dataset):
    """Network graphs with stored splits (see the module docstring). Subclasses provide the rows: ``len()``
    (networks in the whole dataset), ``network_at(row)``, ``_all_rows()`` (a frame of every row),
    ``content_fingerprint()`` and ``metadata``; they may decode many rows at once in ``_decode(rows)``."""

    metadata: dict[str, Any]

    def __init__(self, transform: Any = None) -> None:
        super().__init__(None, transform=transform, log=False)

    # -- what subclasses provide
    @abc.abstractmethod
    def len(self) -> int:
        """Networks in the whole dataset (views have fewer; ``len(ds)`` counts the view)."""

    @abc.abstractmethod
    def network_at(self, row: int) -> NetworkWeights:
        """The exact network of row ``row`` of the whole dataset."""

    @abc.abstractmethod
    def _all_rows(self) -> pd.DataFrame:
        """One row per network of the whole dataset, columns :data:`FRAME_COLUMNS`."""

    @abc.abstractmethod
    def _whole_fingerprint(self) -> str:
        """SHA-256 identifying the whole dataset's rows and splits."""

    def content_fingerprint(self) -> str:
        """SHA-256 identifying this view's content and splits (equal datasets, equal fingerprints; a view
        differs from the whole dataset and from other views)."""
        whole = self._whole_fingerprint()
        rows = self.rows()
        if np.array_equal(rows, np.arange(self.len())):
            return whole
        digest = hashlib.sha256(whole.encode())
        digest.update(rows.tobytes())
        return digest.hexdigest()

    def network_ids(self, dataset_rows: Sequence[int] | Tensor | np.ndarray) -> list[str]:
        """The ids of whole-dataset rows (e.g. a batch's ``dataset_row``)."""
        ids = self._all_rows()["id"].to_numpy()
        return [str(ids[int(r)]) for r in np.asarray(torch.as_tensor(dataset_rows).reshape(-1))]

    def _decode(self, rows: np.ndarray) -> Batch:
        """The untransformed batch of whole-dataset ``rows`` (subclasses decode many rows at once)."""
        return collate_graphs([self.get(int(r)) for r in rows])

    # -- rows and positions
    def rows(self, positions: Sequence[int] | Tensor | np.ndarray | None = None) -> np.ndarray:
        """Whole-dataset rows of ``positions`` in this view (all positions if ``None``); ``IndexError``
        for a position outside the view."""
        indices = np.asarray(self.indices(), dtype=np.int64)
        if positions is None:
            return indices
        pos = np.asarray(torch.as_tensor(positions).reshape(-1), dtype=np.int64)
        n = len(indices)
        bad = (pos < -n) | (pos >= n)
        if bad.any():
            raise IndexError(f"position {int(pos[bad][0])} out of range for a dataset of {n} networks")
        return indices[np.where(pos < 0, pos + n, pos)]

    @property
    def edge_dim(self) -> int:
        """Width of ``edge_attr`` of every graph of the dataset."""
        return int(self.metadata["edge_feature_dim"])

    @cached_property
    def target_name(self) -> str:
        """The target ``y`` holds: ``"label"`` when any network of the whole dataset has one, else ``"score"``."""
        return "label" if bool((self._all_rows()["label"].to_numpy() >= 0).any()) else "score"

    # -- items
    def get(self, idx: int) -> Data:
        """The untransformed graph of whole-dataset row ``idx`` (PyG's ``Dataset.get``)."""
        net = self.network_at(int(idx))
        fields = summary_fields(net, "", str(idx))
        graph = to_graph(net, self.edge_dim)
        graph.score = torch.tensor([fields["score"]], dtype=torch.float32)
        graph.label = torch.tensor([fields["label"]], dtype=torch.long)
        graph.dataset_row = torch.tensor([int(idx)], dtype=torch.long)
        graph.y = graph[self.target_name]
        return graph

    def network(self, position: int) -> NetworkWeights:
        """The exact network at ``position`` of this view."""
        return self.network_at(int(self.rows([position])[0]))

    def frame(self) -> pd.DataFrame:
        """One row per network of this view, columns :data:`FRAME_COLUMNS`; ``row`` is the position."""
        frame = self._all_rows().iloc[self.rows()].reset_index(drop=True)
        frame["row"] = np.arange(len(frame))
        return frame

    @property
    def y(self) -> Tensor:
        """``(len(ds),)`` targets of this view: labels (int64) or scores (float32), see :attr:`target_name`."""
        values = self._all_rows()[self.target_name].to_numpy()[self.rows()]
        return torch.from_numpy(values.astype(np.int64 if self.target_name == "label" else np.float32))

    def get_idx_split(self) -> dict[str, Tensor]:
        """Positions of each split, ``{"train", "val", "test"}`` -> ``LongTensor`` (ascending)."""
        split = self._all_rows()["split"].to_numpy()[self.rows()]
        return {name: torch.from_numpy(np.flatnonzero(split == name)).long() for name in SPLITS}

    def batch(self, positions: Sequence[int] | Tensor) -> Batch:
        """The collated, transformed batch of ``positions``: exactly ``collate_graphs([ds[i] for i in
        positions])``. A transform with ``accepts_batch = True`` is applied once to the whole batch."""
        rows = self.rows(positions)
        if self.transform is None or getattr(self.transform, "accepts_batch", False):
            batch = self._decode(rows)
            return batch if self.transform is None else self.transform(batch)
        return collate_graphs([self.transform(self.get(int(r))) for r in rows])

    def loader(self, positions: Sequence[int] | Tensor | None = None, batch_size: int = 32, shuffle: bool = False,
               seed: int = 0, drop_last: bool = False, **options: Any) -> "GraphLoader":
        """Batches of ``positions`` (all if ``None``): a :class:`scalegmn.data.loader.GraphLoader`."""
        from scalegmn.data.loader import GraphLoader

        rows = torch.arange(len(self)) if positions is None else torch.as_tensor(positions, dtype=torch.long)
        return GraphLoader(self, rows.reshape(-1), batch_size, shuffle=shuffle, seed=seed, drop_last=drop_last,
                           **options)

    def __repr__(self) -> str:
        sizes = self.get_idx_split()
        splits = "/".join(f"{k} {len(v)}" for k, v in sizes.items())
        archs = self._all_rows()["arch_key"].to_numpy()[self.rows()]
        return (f"{type(self).__name__}({len(self)} networks, {len(set(archs.tolist()))} architecture(s), "
                f"{splits}, edge_dim={self.edge_dim}, y={self.target_name}"
                f"{'' if self.transform is None else f', transform={self.transform!r}'})")


class InMemoryGraphDataset(GraphDatasetBase):
    """A graph dataset over networks held in memory, with the interface of the shard-backed dataset.

    ``splits`` maps ``"train"``/``"val"``/``"test"`` to row indices (rows in none of them get split ``""``).
    """

    def __init__(self, nets: list[NetworkWeights], splits: dict[str, list[int]], transform: Any = None) -> None:
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
        super().__init__(transform)

    def len(self) -> int:
        return len(self.nets)

    def _whole_fingerprint(self) -> str:
        digest = hashlib.sha256()
        for net, split in zip(self.nets, self.splits):
            fields = [split, net.activation, net.strides, net.paddings, net.pooling, net.w0, net.output_offset,
                      net.leaky_slope, net.meta]
            digest.update(json.dumps(fields, sort_keys=True, default=str).encode())
            for t in (*net.weights, *net.biases):
                digest.update(str(tuple(t.shape)).encode())
                digest.update(t.detach().cpu().contiguous().numpy().tobytes())
        return digest.hexdigest()

    def network_at(self, row: int) -> NetworkWeights:
        return self.nets[row]

    @cached_property
    def _frame(self) -> pd.DataFrame:
        records = [{"row": i, **summary_fields(net, split, str(i))}
                   for i, (net, split) in enumerate(zip(self.nets, self.splits))]
        return pd.DataFrame.from_records(records, columns=list(FRAME_COLUMNS))

    def _all_rows(self) -> pd.DataFrame:
        return self._frame
