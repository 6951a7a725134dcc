"""The fast loader of graph datasets: seeded epoch order, DDP sharding, symmetry copies drawn on the fly.

An epoch of a :class:`GraphLoader` over ``N`` positions with ``copies = K`` has ``N (K + 1)`` items: every
network once as it is and ``K`` times as a random symmetry copy (``augment``, drawn from ``(seed, epoch,
index, copy)``, so resumed runs and every DDP rank see the same copies); without ``originals`` it has the
``N K`` copies only (``K = 1``: each network replaced by a fresh random copy every epoch, as many steps as
without augmentation). With ``shuffle`` the items' order
is a permutation seeded by ``(seed, epoch)``; the epoch advances after each pass unless set with
:meth:`GraphLoader.set_epoch`. Items are cut into global batches of ``batch_size``; under DDP the last one
is cut to a multiple of ``world_size`` and rank ``r`` takes items ``r, r + W, ...`` of every batch.
Batches carry ``copy_number`` ``(B,)`` (0: the network as it is). ``cache`` keeps each decoded graph in memory
after its first use (only for datasets whose own ``transform`` is deterministic). When every position's graph
as it is is fixed (the graphs are cached, or the dataset has no transform), batches also carry
``dataset_view``, a string naming those graphs (the dataset's fingerprint and transform): a model may keep
features of its rows with ``copy_number == 0`` by ``dataset_row`` under that name
(:class:`scalegmn.nn.feature_cache.FeatureCache`). Whoever changes a batch's copy-0 graphs drops it. A
model that holds such features may answer the loader's ``features_held(dataset_view, dataset_rows)``
(``holds_features``): a batch of only rows it holds, all as they are, then comes without graphs, with the
graph-level targets (``score``, ``label``, ``dataset_row``, ``y``), ``copy_number`` and ``dataset_view``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cached_property
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Batch, Data

from scalegmn.data.dataset import GraphDatasetBase, collate_graphs


def epoch_order(count: int, seed: int, epoch: int) -> Tensor:
    """The seeded permutation of ``count`` items in ``epoch``."""
    generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(count, generator=generator)


class GraphLoader:
    """Batches of a dataset's positions (see the module docstring)."""

    def __init__(self, dataset: GraphDatasetBase, positions: Tensor, batch_size: int, *, shuffle: bool = False,
                 seed: int = 0, drop_last: bool = False, copies: int = 0, augment: Any = None,
                 world_size: int = 1, rank: int = 0, cache: bool = False, originals: bool = True) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if copies < 0 or (copies and augment is None):
            raise ValueError(f"copies must be >= 0 and need an augment transform, got {copies}")
        if not originals and not copies:
            raise ValueError("an epoch without the original networks needs copies >= 1")
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} outside a world of {world_size} processes")
        if batch_size < world_size:
            raise ValueError(f"batch_size {batch_size} is smaller than the {world_size} processes sharing each batch")
        self.dataset = dataset
        self.positions = torch.as_tensor(positions, dtype=torch.long).reshape(-1)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.drop_last = drop_last
        self.copies = copies
        self.originals = originals
        self.augment = augment
        self.world_size = world_size
        self.rank = rank
        self.epoch = 0
        self._cache: dict[int, Data] | None = {} if cache else None
        self.features_held: Callable[[str, Tensor], bool] | None = None  # see the module docstring

    def set_epoch(self, epoch: int) -> None:
        """The epoch of the next pass (its order and its copies)."""
        self.epoch = int(epoch)

    @property
    def num_items(self) -> int:
        return len(self.positions) * (self.copies + int(self.originals))

    def batch_sizes(self) -> list[int]:
        """The global batch sizes of every epoch: ``batch_size`` each, a short last one dropped with
        ``drop_last``; the last one is cut to a multiple of ``world_size`` (and dropped if that leaves none)."""
        full, rest = divmod(self.num_items, self.batch_size)
        sizes = [self.batch_size] * full + ([rest] if rest else [])
        if self.drop_last and sizes and sizes[-1] < self.batch_size:
            sizes.pop()
        if sizes:
            sizes[-1] -= sizes[-1] % self.world_size
        return [size for size in sizes if size]

    def global_batches(self, epoch: int) -> list[Tensor]:
        """The item numbers of every global batch of ``epoch`` (item ``i`` is position ``i % N``, copy
        ``i // N``, or ``i // N + 1`` without originals)."""
        items = epoch_order(self.num_items, self.seed, epoch) if self.shuffle else torch.arange(self.num_items)
        sizes = self.batch_sizes()
        return list(items[: sum(sizes)].split(sizes))

    def __len__(self) -> int:
        return len(self.batch_sizes())

    @cached_property
    def dataset_view(self) -> str | None:
        """The name of every position's graph as it is (see the module docstring); ``None`` when a transform
        may draw them anew."""
        transform = self.dataset.transform
        if transform is not None and self._cache is None:
            return None
        return f"{self.dataset.content_fingerprint()} {transform!r}"

    def _graphs(self, positions: Tensor) -> Batch:
        if self._cache is None:
            batch = self.dataset.batch(positions)
        else:
            graphs = []
            for p in positions.tolist():
                graph = self._cache.get(p)
                if graph is None:
                    graph = self._cache[p] = self.dataset[p]
                graphs.append(graph)
            batch = collate_graphs(graphs)
        if self.dataset_view is not None:
            batch.dataset_view = self.dataset_view
        return batch

    @cached_property
    def _targets(self) -> dict[str, Tensor]:
        """The graph-level targets of every position, as its graph carries them (``(len(dataset),)`` each)."""
        frame = self.dataset.frame()
        targets = {"score": torch.from_numpy(frame["score"].to_numpy(np.float32, copy=True)),
                   "label": torch.from_numpy(frame["label"].to_numpy(np.int64, copy=True)),
                   "dataset_row": torch.from_numpy(self.dataset.rows())}
        return {**targets, "y": self.dataset.y}

    def _without_graphs(self, positions: Tensor, copy_number: Tensor) -> Batch | None:
        """The batch of ``positions`` without graphs when ``features_held`` says the model holds every row's
        features (all copies 0), else ``None``."""
        if self.features_held is None or self.dataset_view is None or bool(copy_number.any()):
            return None
        if not self.features_held(self.dataset_view, self._targets["dataset_row"][positions]):
            return None
        batch = Batch()
        for key, values in self._targets.items():
            batch[key] = values[positions]
        batch.dataset_view = self.dataset_view
        return batch

    def networks(self, batch_size: int) -> Iterator[Batch]:
        """Every position once, in order, as it is (no symmetry copies, no sharding), ``batch_size`` at a
        time, through the cache: the networks a model may fit input statistics to."""
        for chunk in self.positions.split(batch_size):
            yield self._graphs(chunk)

    def batch(self, items: Tensor, epoch: int) -> Batch:
        """The batch of item numbers ``items`` in ``epoch`` (copies drawn for that epoch)."""
        n = len(self.positions)
        positions, copy_number = self.positions[items % n], items // n + int(not self.originals)
        batch = self._without_graphs(positions, copy_number)
        if batch is None:
            batch = self._graphs(positions)
        batch.copy_number = copy_number
        if self.copies and bool((batch.copy_number > 0).any()):
            self.augment.set_epoch(epoch)
            batch = self.augment(batch)
        return batch

    def __iter__(self) -> Iterator[Batch]:
        epoch = self.epoch
        for chunk in self.global_batches(epoch):
            yield self.batch(chunk[self.rank :: self.world_size], epoch)
        self.epoch = epoch + 1
