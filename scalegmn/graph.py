"""Networks as graphs (DESIGN §5) and back.

Nodes are neurons (channels for convs), numbered layer by layer, input layer first. Edge ``j -> i`` of
weight layer ``l`` carries ``W_l[i, j]``: a scalar for linear layers, the kernel flattened row-major for
convs, and for the first linear layer after a flatten the ``flatten_size`` weights that connect channel
``j`` to neuron ``i`` (one node per channel, the spatial positions live on the edge). Every edge feature
is zero-padded to the widest one, ``K``. Under a symmetry a hidden node's feature scales by ``q_i`` and an
edge ``j -> i`` by ``q_i / q_j``.

Graph attributes (``N`` nodes, ``E`` edges):
    x ``(N, 1)`` biases (0 for input nodes); edge_index ``(2, E)``; edge_attr ``(E, K)``;
    node_layer ``(N,)`` (0 = input ... L = output); edge_layer ``(E,)`` (weight layer 0..L-1);
    node_type ``(N,)`` (each input and output neuron its own type, one type per hidden layer);
    input_mask / hidden_mask / output_mask ``(N,)``; act ``(1,)`` activation id; group ``(1,)`` scaling
    group id; and, as plain attributes, ``arch``, ``activation``, ``w0``, ``output_offset``,
    ``leaky_slope`` and ``meta`` (the network's metadata as a JSON string).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

import torch
from torch import Tensor
from torch_geometric.data import Batch, Data

from scalegmn.symmetry import SCALING_GROUPS
from scalegmn.weights import ACTIVATIONS, Architecture, NetworkWeights

ACTIVATION_IDS: dict[str, int] = {name: i for i, name in enumerate(ACTIVATIONS)}
GROUP_IDS: dict[str, int] = {"none": 0, "positive": 1, "sign": 2}


@dataclass(frozen=True)
class GraphStructure:
    """Everything about a graph that depends on the architecture only (shared by its networks)."""

    edge_index: Tensor
    node_layer: Tensor
    edge_layer: Tensor
    node_type: Tensor
    input_mask: Tensor
    hidden_mask: Tensor
    output_mask: Tensor
    node_offsets: tuple[int, ...]
    edge_offsets: tuple[int, ...]
    edge_widths: tuple[int, ...]

    @property
    def num_nodes(self) -> int:
        return self.node_offsets[-1]

    @property
    def edge_dim(self) -> int:
        return max(self.edge_widths)


def edge_widths(arch: Architecture) -> tuple[int, ...]:
    """Feature width of the edges of each weight layer: ``kh*kw`` (conv), flatten size, or 1."""
    widths = []
    for l, k in enumerate(arch.kernel_shapes):
        if k is not None:
            widths.append(k[0] * k[1])
        elif l > 0 and arch.kernel_shapes[l - 1] is not None:
            widths.append(arch.flatten_size)
        else:
            widths.append(1)
    return tuple(widths)


@lru_cache(maxsize=256)
def graph_structure(arch: Architecture) -> GraphStructure:
    """The shared structure of ``arch`` (computed once per architecture and cached)."""
    sizes = arch.layer_sizes
    num_layers = len(sizes) - 1
    node_offsets = [0]
    for n in sizes:
        node_offsets.append(node_offsets[-1] + n)
    src, dst, edge_layer, edge_offsets = [], [], [], [0]
    for l in range(num_layers):
        n_in, n_out = sizes[l], sizes[l + 1]
        i = torch.arange(n_out).repeat_interleave(n_in)
        j = torch.arange(n_in).repeat(n_out)
        src.append(node_offsets[l] + j)
        dst.append(node_offsets[l + 1] + i)
        edge_layer.append(torch.full((n_in * n_out,), l, dtype=torch.long))
        edge_offsets.append(edge_offsets[-1] + n_in * n_out)
    node_layer = torch.cat([torch.full((n,), l, dtype=torch.long) for l, n in enumerate(sizes)])
    n_in, n_out = sizes[0], sizes[-1]
    node_type = torch.cat(
        [torch.arange(n_in)]
        + [torch.full((n,), n_in + n_out + l - 1, dtype=torch.long) for l, n in enumerate(sizes) if 0 < l < num_layers]
        + [n_in + torch.arange(n_out)]
    )
    return GraphStructure(
        edge_index=torch.stack([torch.cat(src), torch.cat(dst)]),
        node_layer=node_layer,
        edge_layer=torch.cat(edge_layer),
        node_type=node_type,
        input_mask=node_layer == 0,
        hidden_mask=(node_layer > 0) & (node_layer < num_layers),
        output_mask=node_layer == num_layers,
        node_offsets=tuple(node_offsets),
        edge_offsets=tuple(edge_offsets),
        edge_widths=edge_widths(arch),
    )


def _edge_features(w: Tensor, n_in: int, width: int) -> Tensor:
    """``(out*in, width)`` edge features of one weight layer, row-major over ``(i, j)``."""
    return w.reshape(w.shape[0] * n_in, width)


def to_graph(net: NetworkWeights, edge_dim: int | None = None) -> Data:
    """The graph of ``net`` (see the module docstring); ``edge_dim`` pads edge features wider than needed."""
    arch = net.architecture
    s = graph_structure(arch)
    width = s.edge_dim if edge_dim is None else edge_dim
    if width < s.edge_dim:
        raise ValueError(f"edge_dim={edge_dim} is smaller than the widest edge feature ({s.edge_dim})")
    sizes = arch.layer_sizes
    attr = torch.zeros(s.edge_offsets[-1], width, dtype=net.dtype)
    for l, w in enumerate(net.weights):
        attr[s.edge_offsets[l] : s.edge_offsets[l + 1], : s.edge_widths[l]] = _edge_features(
            w, sizes[l], s.edge_widths[l]
        )
    x = torch.cat([torch.zeros(sizes[0], dtype=net.dtype)] + list(net.biases)).unsqueeze(1)
    return Data(
        x=x,
        edge_index=s.edge_index,
        edge_attr=attr,
        node_layer=s.node_layer,
        edge_layer=s.edge_layer,
        node_type=s.node_type,
        input_mask=s.input_mask,
        hidden_mask=s.hidden_mask,
        output_mask=s.output_mask,
        act=torch.tensor([ACTIVATION_IDS[net.activation]]),
        group=torch.tensor([GROUP_IDS[SCALING_GROUPS[net.activation]]]),
        arch=arch,
        activation=net.activation,
        w0=net.w0,
        output_offset=net.output_offset,
        leaky_slope=net.leaky_slope,
        meta=json.dumps(net.meta, sort_keys=True),
        num_nodes=s.num_nodes,
    )


def params_from_features(arch: Architecture, x: Tensor, edge_attr: Tensor) -> tuple[list[Tensor], list[Tensor]]:
    """Weights and biases of ``arch`` from node features ``(N, >=1)`` and edge features ``(E, >=K)``
    laid out in :func:`to_graph`'s order (equivariant heads use this to turn outputs into weights)."""
    s = graph_structure(arch)
    sizes = arch.layer_sizes
    weights, biases = [], []
    for l in range(arch.num_layers):
        n_in, n_out = sizes[l], sizes[l + 1]
        feats = edge_attr[s.edge_offsets[l] : s.edge_offsets[l + 1], : s.edge_widths[l]]
        k = arch.kernel_shapes[l]
        shape = (n_out, n_in, k[0], k[1]) if k is not None else (n_out, n_in * s.edge_widths[l])
        weights.append(feats.reshape(shape))
        biases.append(x[s.node_offsets[l + 1] : s.node_offsets[l + 2], 0])
    return weights, biases


def from_graph(data: Data) -> NetworkWeights:
    """The exact inverse of :func:`to_graph`."""
    arch: Architecture = data.arch
    s = graph_structure(arch)
    if data.num_nodes != s.num_nodes or data.edge_attr.shape[0] != s.edge_offsets[-1]:
        raise ValueError(
            f"graph has {data.num_nodes} nodes / {data.edge_attr.shape[0]} edges but its architecture "
            f"needs {s.num_nodes} / {s.edge_offsets[-1]}"
        )
    weights, biases = params_from_features(arch, data.x, data.edge_attr)
    return NetworkWeights(
        [w.clone() for w in weights],
        [b.clone() for b in biases],
        data.activation,
        strides=list(arch.strides),
        paddings=list(arch.paddings),
        pooling=arch.pooling,
        w0=float(data.w0),
        output_offset=float(data.output_offset),
        leaky_slope=float(data.leaky_slope),
        meta=json.loads(data.meta),
    )


def collate(graphs: list[Data]) -> Batch:
    """A PyG ``Batch`` of graphs; graphs sharing one architecture reuse its cached ``edge_index``.

    The shared-architecture path offsets the cached edge index for all graphs at once instead of per
    item; mixed architectures fall back to ``Batch.from_data_list``. Both give the same batch.
    """
    first = graphs[0]
    if any(g.arch != first.arch for g in graphs):
        return Batch.from_data_list(graphs)
    s = graph_structure(first.arch)
    b, n, e = len(graphs), s.num_nodes, s.edge_offsets[-1]
    node_shift = (torch.arange(b) * n).view(b, 1, 1)
    edge_index = (s.edge_index.unsqueeze(0) + node_shift).transpose(0, 1).reshape(2, b * e)
    batch = Batch(
        x=torch.cat([g.x for g in graphs]),
        edge_index=edge_index,
        edge_attr=torch.cat([g.edge_attr for g in graphs]),
        node_layer=s.node_layer.repeat(b),
        edge_layer=s.edge_layer.repeat(b),
        node_type=s.node_type.repeat(b),
        input_mask=s.input_mask.repeat(b),
        hidden_mask=s.hidden_mask.repeat(b),
        output_mask=s.output_mask.repeat(b),
        act=torch.cat([g.act for g in graphs]),
        group=torch.cat([g.group for g in graphs]),
        arch=[g.arch for g in graphs],
        activation=[g.activation for g in graphs],
        w0=torch.tensor([float(g.w0) for g in graphs]),
        output_offset=torch.tensor([float(g.output_offset) for g in graphs]),
        leaky_slope=torch.tensor([float(g.leaky_slope) for g in graphs]),
        meta=[g.meta for g in graphs],
        batch=torch.arange(b).repeat_interleave(n),
        ptr=torch.arange(b + 1) * n,
    )
    batch._num_graphs = b
    return batch
