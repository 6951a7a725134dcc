"""Batched weights of networks of one architecture (after nfn's ``WeightSpaceFeatures`` + ``NetworkSpec``).

A :class:`WeightBatch` holds ``weights[l]`` ``(B, out, in[, kh, kw])`` and ``biases[l]`` ``(B, out)`` in
PyTorch layout (a linear layer after a flatten: ``(B, out, in * flatten_size)``) for ``B`` networks of one
:class:`~scalegmn.core.weights.Architecture`. It is the only place that knows how weights sit in a graph's
features (``x`` biases, ``edge_attr`` weights; see :mod:`scalegmn.core.graph`): :meth:`WeightBatch.features`
lays them out, :meth:`WeightBatch.from_features` and :meth:`WeightBatch.from_graphs` read them back, from one
graph, a PyG batch of mixed architectures, or model outputs aligned with a batch.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from scalegmn.core.graph_structure import graph_structure
from scalegmn.core.weights import Architecture, NetworkWeights, forward


def graph_architectures(data: Any) -> list[Architecture]:
    """The architecture of every graph of a PyG batch (or of one graph)."""
    arch = data.arch
    return list(arch) if isinstance(arch, (list, tuple)) else [arch]


@dataclass
class WeightBatch:
    """``B`` networks of architecture ``arch``: per-layer ``weights`` and ``biases`` (see the module
    docstring). Arithmetic (``+ - * /`` with a number or another batch) and :meth:`map` act per tensor."""

    arch: Architecture
    weights: list[Tensor]
    biases: list[Tensor]

    # ----------------------------------------------------------------- basics
    @property
    def batch_size(self) -> int:
        return int(self.biases[0].shape[0])

    @property
    def dtype(self) -> torch.dtype:
        return self.weights[0].dtype

    def __len__(self) -> int:
        return self.batch_size

    def map(self, fn: Callable[[Tensor], Tensor]) -> "WeightBatch":
        """``fn`` applied to every weight and bias tensor."""
        return WeightBatch(self.arch, [fn(w) for w in self.weights], [fn(b) for b in self.biases])

    def _zip(self, other: "WeightBatch | float", op: Callable[[Tensor, Any], Tensor]) -> "WeightBatch":
        if not isinstance(other, WeightBatch):
            return self.map(lambda t: op(t, other))
        if other.arch != self.arch:
            raise ValueError("weight batches of different architectures")
        return WeightBatch(self.arch, [op(a, b) for a, b in zip(self.weights, other.weights)],
                           [op(a, b) for a, b in zip(self.biases, other.biases)])

    def __add__(self, other: "WeightBatch | float") -> "WeightBatch":
        return self._zip(other, torch.add)

    def __sub__(self, other: "WeightBatch | float") -> "WeightBatch":
        return self._zip(other, torch.sub)

    def __mul__(self, other: "WeightBatch | float") -> "WeightBatch":
        return self._zip(other, torch.mul)

    def __truediv__(self, other: "WeightBatch | float") -> "WeightBatch":
        return self._zip(other, torch.div)

    def __rsub__(self, other: float) -> "WeightBatch":
        return self.map(lambda t: other - t)

    def __rtruediv__(self, other: float) -> "WeightBatch":
        return self.map(lambda t: other / t)

    __radd__ = __add__
    __rmul__ = __mul__

    def __neg__(self) -> "WeightBatch":
        return self.map(torch.neg)

    def __getitem__(self, index: int | slice | Tensor) -> "WeightBatch":
        """The networks ``index`` (an int keeps the batch dimension)."""
        if isinstance(index, int):
            index = slice(index, index + 1 if index != -1 else None)
        return self.map(lambda t: t[index])

    def flatten(self) -> Tensor:
        """``(B, P)``: ``[W_0.flatten() ‖ b_0 ‖ W_1.flatten() ‖ b_1 ‖ ...]`` per network."""
        parts: list[Tensor] = []
        for w, b in zip(self.weights, self.biases):
            parts += [w.reshape(w.shape[0], -1), b]
        return torch.cat(parts, dim=1)

    # ----------------------------------------------------------------- networks
    @classmethod
    def from_networks(cls, nets: list[NetworkWeights]) -> "WeightBatch":
        """Stack networks of one architecture."""
        arch = nets[0].architecture
        if any(n.architecture != arch for n in nets[1:]):
            raise ValueError("a weight batch needs networks of one architecture")
        return cls(arch, [torch.stack(ws) for ws in zip(*(n.weights for n in nets))],
                   [torch.stack(bs) for bs in zip(*(n.biases for n in nets))])

    def networks(self, templates: list[NetworkWeights]) -> list[NetworkWeights]:
        """Network ``i`` is ``templates[i]`` (activation, settings, metadata) with this batch's parameters."""
        if len(templates) != self.batch_size:
            raise ValueError(f"{len(templates)} templates for a batch of {self.batch_size} networks")
        return [t.replace_params([w[i] for w in self.weights], [b[i] for b in self.biases])
                for i, t in enumerate(templates)]

    def forward(self, template: NetworkWeights, x: Tensor) -> Tensor:
        """Every network run on the same input ``x`` (``(P, n_in)`` or ``(P, C, H, W)``): ``(B, P, n_out)``.

        The activation, ``w0``, pooling and offset are ``template``'s; the pass is
        :func:`scalegmn.core.weights.forward` vectorised with ``torch.vmap`` (differentiable in the weights).
        """
        def one(weights: list[Tensor], biases: list[Tensor]) -> Tensor:
            net = copy.copy(template)  # no validation: the tensors are vmap-batched
            net.weights, net.biases = list(weights), list(biases)
            return forward(net, x)

        return torch.vmap(one)(self.weights, self.biases)

    # ----------------------------------------------------------------- graph features
    def features(self, edge_dim: int | None = None) -> tuple[Tensor, Tensor]:
        """The graph features of every network: ``x`` ``(B, N, 1)`` (0 for input nodes, then the biases
        layer by layer) and ``edge_attr`` ``(B, E, K)`` (edge ``j -> i`` of layer ``l`` holds ``W_l[i, j]``,
        flattened, zero-padded to ``K = edge_dim``, default the widest edge of the architecture)."""
        s = graph_structure(self.arch)
        width = s.edge_dim if edge_dim is None else edge_dim
        if width < s.edge_dim:
            raise ValueError(f"edge_dim={edge_dim} is smaller than the widest edge feature ({s.edge_dim})")
        b, sizes = self.batch_size, self.arch.layer_sizes
        blocks = []
        for l, w in enumerate(self.weights):
            block = w.reshape(b, sizes[l + 1] * sizes[l], s.edge_widths[l])
            if s.edge_widths[l] < width:
                block = torch.nn.functional.pad(block, (0, width - s.edge_widths[l]))
            blocks.append(block)
        inputs = self.biases[0].new_zeros(b, sizes[0])
        x = torch.cat([inputs, *self.biases], dim=1).unsqueeze(2)
        return x, torch.cat(blocks, dim=1)

    @classmethod
    def from_features(cls, arch: Architecture, x: Tensor, edge_attr: Tensor) -> "WeightBatch":
        """The inverse of :meth:`features`: ``x`` ``(B, N, >=1)`` and ``edge_attr`` ``(B, E, >=K)`` (extra
        channels ignored) of networks of ``arch``."""
        s = graph_structure(arch)
        b, sizes = x.shape[0], arch.layer_sizes
        weights, biases = [], []
        for l in range(arch.num_layers):
            n_in, n_out, k = sizes[l], sizes[l + 1], arch.kernel_shapes[l]
            w = edge_attr[:, s.edge_offsets[l] : s.edge_offsets[l + 1], : s.edge_widths[l]]
            shape = (b, n_out, n_in, k[0], k[1]) if k is not None else (b, n_out, n_in * s.edge_widths[l])
            weights.append(w.reshape(shape))
            biases.append(x[:, s.node_offsets[l + 1] : s.node_offsets[l + 2], 0])
        return cls(arch, weights, biases)

    @classmethod
    def from_graphs(cls, data: Any, x: Tensor | None = None, edge_attr: Tensor | None = None
                    ) -> list[tuple[Tensor, "WeightBatch"]]:
        """The networks of a PyG batch (or one graph) grouped by architecture, in order of first
        appearance: ``(indices, weights)`` with ``indices`` ``(B_a,)`` their positions in the batch.

        ``x`` ``(num_nodes, C)`` / ``edge_attr`` ``(num_edges, K)`` aligned with the batch (e.g. an
        equivariant model's outputs) replace the batch's own features.
        """
        x = data.x if x is None else x
        edge_attr = data.edge_attr if edge_attr is None else edge_attr
        groups = []
        for arch, idx, nodes, edges in _slots(data, x.shape[0], edge_attr.shape[0]):
            if nodes is None:  # one architecture: the features already are (B, N) / (B, E) blocks
                gx, ge = x.reshape(len(idx), -1, x.shape[-1]), edge_attr.reshape(len(idx), -1, edge_attr.shape[-1])
            else:
                gx, ge = x[nodes.to(x.device)], edge_attr[edges.to(x.device)]
            groups.append((idx.to(x.device), cls.from_features(arch, gx, ge)))
        return groups

    @staticmethod
    def graph_features(data: Any, groups: list[tuple[Tensor, "WeightBatch"]]) -> tuple[Tensor, Tensor]:
        """The inverse of :meth:`from_graphs`: ``x`` ``(num_nodes, 1)`` and ``edge_attr`` ``(num_edges, K)`` of
        the batch ``data`` holding each group's weights (``K`` the batch's edge width)."""
        n, e, width = data.x.shape[0], data.edge_attr.shape[0], int(data.edge_attr.shape[1])
        x, edge_attr = data.x.new_zeros(n, 1), data.edge_attr.new_zeros(e, width)
        by_arch = {weights.arch: weights for _, weights in groups}
        for arch, _, nodes, edges in _slots(data, n, e):
            gx, ge = by_arch[arch].features(width)
            if nodes is None:
                return gx.reshape(n, 1).to(x.dtype), ge.reshape(e, width)
            x[nodes.reshape(-1).to(x.device)] = gx.reshape(-1, 1).to(x.dtype)
            edge_attr[edges.reshape(-1).to(x.device)] = ge.reshape(-1, width)
        return x, edge_attr

    @classmethod
    def from_flat(cls, arch: Architecture, weights: Tensor, biases: Tensor) -> "WeightBatch":
        """From the stored row layout: ``weights`` ``(B, Pw)`` every layer's weight flattened row-major, one
        after the other, and ``biases`` ``(B, Pb)`` the biases likewise."""
        s = graph_structure(arch)
        sizes, b = arch.layer_sizes, weights.shape[0]
        shapes = [(sizes[l + 1], sizes[l], *k) if k is not None else (sizes[l + 1], sizes[l] * s.edge_widths[l])
                  for l, k in enumerate(arch.kernel_shapes)]
        parts = weights.split([int(torch.Size(shape).numel()) for shape in shapes], dim=1)
        return cls(arch, [p.reshape(b, *shape) for p, shape in zip(parts, shapes)],
                   list(biases.split(list(sizes[1:]), dim=1)))


def _slots(data: Any, num_nodes: int, num_edges: int
           ) -> list[tuple[Architecture, Tensor, Tensor | None, Tensor | None]]:
    """Per architecture of a batch (first appearance order): its graphs' positions ``(B_a,)`` and their node
    and edge rows ``(B_a, N)`` / ``(B_a, E)`` (``None`` when the batch has this one architecture only)."""
    archs = graph_architectures(data)
    structures = [graph_structure(a) for a in archs]
    zero = torch.zeros(1, dtype=torch.long)
    node_ptr = torch.cat([zero, torch.tensor([s.num_nodes for s in structures]).cumsum(0)])
    edge_ptr = torch.cat([zero, torch.tensor([s.edge_offsets[-1] for s in structures]).cumsum(0)])
    if int(node_ptr[-1]) != num_nodes or int(edge_ptr[-1]) != num_edges:
        raise ValueError("the batch's node/edge counts do not match its architectures")
    members: dict[Architecture, list[int]] = {}
    for i, a in enumerate(archs):
        members.setdefault(a, []).append(i)
    if len(members) == 1:
        return [(archs[0], torch.arange(len(archs)), None, None)]
    slots = []
    for arch, rows in members.items():
        s = graph_structure(arch)
        idx = torch.tensor(rows)
        slots.append((arch, idx, node_ptr[idx].unsqueeze(1) + torch.arange(s.num_nodes),
                      edge_ptr[idx].unsqueeze(1) + torch.arange(s.edge_offsets[-1])))
    return slots
