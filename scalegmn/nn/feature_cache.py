"""Per-network input features that are a fixed function of the weights, computed once per dataset view.

StatNN's statistics and the flat MLP's parameter vector depend on nothing but a network's weights and the
model's input scales (:class:`~scalegmn.nn.input_scale.LayerScale`, fitted once before training). Batches of a
:class:`~scalegmn.data.loader.GraphLoader` name the graphs their rows hold as they are in ``dataset_view`` (the
dataset's fingerprint and transform); a :class:`FeatureCache` keeps the features of those rows by
``dataset_row`` and computes only the others: rows of a new view, symmetry copies (``copy_number > 0``, drawn
afresh every epoch), and every row of a batch without ``dataset_view`` or with inputs that need gradients.
A loader may ask :meth:`FeatureCache.holds` (through the model's ``holds_features``) and leave out the graphs
of a batch whose rows are all cached.

The cache holds one view at a time and starts over when the view, the features' width, dtype or device, or the
values of the tensors they depend on (the input scales: refitted, loaded, broadcast under DDP) change, so a
cached row is always what recomputing it gives, bit for bit (every row's features are computed on their own,
whatever else is in its batch). It is a plain attribute, not a buffer: no ``state_dict`` holds it, and each
DDP rank keeps the rows it has seen. Memory: at most ``max_bytes`` of features (the rows beyond it are
recomputed every time; 1 GiB: 50,000 flat vectors of 5,000 float32) plus an index of at most two int64 per dataset row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from scalegmn.core.weight_batch import WeightBatch, graph_architectures
from scalegmn.nn.input_scale import ScaledInputs

Compute = Callable[[Tensor | None], Tensor]  # rows to compute (B,) bool, None: all -> (B, D) features


@dataclass(eq=False)
class FeatureCache:
    """``(B, D)`` features of a batch's networks, the cached rows looked up (see the module docstring)."""

    max_bytes: int = 1 << 30
    key: tuple = field(default=(), init=False)  # (view, width, dtype, device) of the cached rows
    state: list[Tensor] = field(default_factory=list, init=False)  # what the features depend on, as cached
    slots: Tensor = field(default_factory=lambda: torch.empty(0, dtype=torch.long), init=False)  # (rows,), -1: none
    table: Tensor | None = field(default=None, init=False)  # (capacity, D): row slots[r] holds dataset row r
    size: int = field(default=0, init=False)  # slots of table in use

    @torch.compiler.disable  # Python bookkeeping: a compiled model runs it eagerly
    def __call__(self, data: Any, compute: Compute, width: int, dtype: torch.dtype, state: Sequence[Tensor]) -> Tensor:
        """``(B, width)`` features of ``data``'s networks in ``dtype``: cached rows from the cache, the others
        from ``compute(need)`` (at least rows ``need`` filled; ``None``: all), which must depend on nothing but the
        rows' weights and ``state``."""
        view = getattr(data, "dataset_view", None)
        if view is None or any(t is not None and t.requires_grad for t in (data.x, data.edge_attr)):
            return compute(None)
        device = data.dataset_row.device
        key = (view, width, dtype, device)
        if key != self.key or not _equal(state, self.state):
            self._start(key, state)
        rows = data.dataset_row.cpu()
        copies = getattr(data, "copy_number", None)
        original = torch.ones(len(rows), dtype=torch.bool) if copies is None else copies.cpu() == 0
        slot = self._slots_of(rows)
        hit = original & (slot >= 0)
        if bool(hit.all()):
            return self.table[slot.to(device)]
        if data.x is None:
            raise ValueError(f"a batch without graphs has {int((~hit).sum())} networks whose features are not "
                             "cached (the model changed after its loader asked holds_features?)")
        out = compute(~hit)
        if bool(hit.any()):
            out[hit.to(out.device)] = self.table[slot[hit].to(out.device)]
        new = original & ~hit
        self._store(rows[new], out[new.to(out.device)])
        return out

    def holds(self, view: str, rows: Tensor, state: Sequence[Tensor]) -> bool:
        """Whether the features of dataset ``rows`` ``(B,)`` of ``view`` with ``state`` are cached."""
        return (self.key[:1] == (view,) and _equal(state, self.state)
                and bool((self._slots_of(rows.cpu()) >= 0).all()))

    def _start(self, key: tuple, state: Sequence[Tensor]) -> None:
        """Drop every cached row: features of ``key`` with ``state`` from now on."""
        self.key, self.state = key, [t.detach().clone() for t in state]
        self.slots, self.table, self.size = torch.empty(0, dtype=torch.long), None, 0

    def _slots_of(self, rows: Tensor) -> Tensor:
        """``(B,)`` the slot of each dataset row, -1 where it has none."""
        slot = torch.full_like(rows, -1)
        known = rows < len(self.slots)
        slot[known] = self.slots[rows[known]]
        return slot

    def _store(self, rows: Tensor, features: Tensor) -> None:
        """Cache ``features`` ``(n, D)`` of dataset ``rows`` ``(n,)``, as many as ``max_bytes`` leaves room for."""
        limit = self.max_bytes // max(1, features.shape[1] * features.element_size())
        rows, features = rows[: max(0, limit - self.size)], features[: max(0, limit - self.size)]
        if not len(rows):
            return
        end = self.size + len(rows)
        if self.table is None or end > len(self.table):
            grown = features.new_empty(min(limit, max(2 * end, 64)), features.shape[1])
            if self.table is not None:
                grown[: self.size] = self.table[: self.size]
            self.table = grown
        self.table[self.size : end] = features
        if int(rows.max()) >= len(self.slots):
            grown = max(int(rows.max()) + 1, 2 * len(self.slots))
            self.slots = torch.cat([self.slots, self.slots.new_full((grown - len(self.slots),), -1)])
        self.slots[rows] = torch.arange(self.size, end)
        self.size = end


def _equal(a: Sequence[Tensor], b: Sequence[Tensor]) -> bool:
    return len(a) == len(b) and all(x.shape == y.shape and x.dtype == y.dtype and torch.equal(x, y)
                                    for x, y in zip(a, b))


class CachedNetworkFeatures(ScaledInputs):
    """For metanetworks whose input is one vector per network, a fixed function of its weights divided by the
    input scales: ``(B, width)`` from a per-architecture ``(B_a, <= width)`` function, zero-padded, through
    the model's :class:`FeatureCache` ``feature_cache``."""

    feature_cache: FeatureCache

    def cached_features(self, data: Any, width: int, dtype: torch.dtype,
                        per_network: Callable[[WeightBatch], Tensor]) -> Tensor:
        """``(B, width)`` ``per_network`` features of ``data``'s networks in ``dtype`` (zeros past each
        architecture's width)."""

        def compute(need: Tensor | None) -> Tensor:
            out = torch.zeros(len(graph_architectures(data)), width, dtype=dtype, device=data.x.device)
            edge_attr, x = self.scaled_inputs(data)
            for indices, group in WeightBatch.from_graphs(data, x, edge_attr):
                if need is not None and not bool(need.to(indices.device)[indices].any()):
                    continue
                # whole groups as the batch lays them out: a reduction over a copy of some rows (contiguous)
                # adds in another order than over the batch's strided weights
                features = per_network(group)
                out[indices, : features.shape[1]] = features.to(dtype)
            return out

        return self.feature_cache(data, compute, width, dtype, self._feature_state())

    def holds_features(self, view: str, rows: Tensor) -> bool:
        """Whether the features of dataset ``rows`` ``(B,)`` of ``view`` as they are are cached (a batch of them
        needs no graphs: :class:`~scalegmn.data.loader.GraphLoader` ``features_held``)."""
        return self.feature_cache.holds(view, rows, self._feature_state())

    def _feature_state(self) -> list[Tensor]:
        """What the features depend on besides the weights: the input scales."""
        return [] if self.input_scale is None else list(self.input_scale.buffers())
