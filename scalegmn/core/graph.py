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

import torch
from torch import Tensor
from torch_geometric.data import Batch, Data

from scalegmn.core.activations import activation
from scalegmn.core.graph_structure import GraphStructure, edge_widths, graph_structure
from scalegmn.core.weight_batch import WeightBatch
from scalegmn.core.weights import Architecture, NetworkWeights

__all__ = ["GraphStructure", "batch_of_architecture", "collate", "edge_widths", "from_graph", "graph_structure",
           "to_graph"]


def to_graph(net: NetworkWeights, edge_dim: int | None = None) -> Data:
    """The graph of ``net`` (see the module docstring); ``edge_dim`` pads edge features wider than needed."""
    s = graph_structure(net.architecture)
    x, edge_attr = WeightBatch.from_networks([net]).features(edge_dim)
    record = net.to_dict()
    act = activation(net.activation)
    return Data(
        x=x[0],
        edge_attr=edge_attr[0],
        edge_index=s.edge_index,
        node_layer=s.node_layer,
        edge_layer=s.edge_layer,
        node_type=s.node_type,
        input_mask=s.input_mask,
        hidden_mask=s.hidden_mask,
        output_mask=s.output_mask,
        act=torch.tensor([act.id]),
        group=torch.tensor([act.group_id]),
        arch=net.architecture,
        activation=record["activation"],
        w0=record["w0"],
        output_offset=record["output_offset"],
        leaky_slope=record["leaky_slope"],
        meta=record["meta"],
        num_nodes=s.num_nodes,
    )


def from_graph(data: Data) -> NetworkWeights:
    """The exact inverse of :func:`to_graph`."""
    arch: Architecture = data.arch
    s = graph_structure(arch)
    if data.num_nodes != s.num_nodes or data.edge_attr.shape[0] != s.edge_offsets[-1]:
        raise ValueError(
            f"graph has {data.num_nodes} nodes / {data.edge_attr.shape[0]} edges but its architecture "
            f"needs {s.num_nodes} / {s.edge_offsets[-1]}"
        )
    params = WeightBatch.from_features(arch, data.x.unsqueeze(0), data.edge_attr.unsqueeze(0))
    return NetworkWeights.from_dict({
        "weights": [w[0].clone() for w in params.weights], "biases": [b[0].clone() for b in params.biases],
        "activation": data.activation, "strides": arch.strides, "paddings": arch.paddings, "pooling": arch.pooling,
        "w0": data.w0, "output_offset": data.output_offset, "leaky_slope": data.leaky_slope, "meta": data.meta,
    })


def batch_of_architecture(arch: Architecture, x: Tensor, edge_attr: Tensor, activations: list[str],
                          w0: list[float], output_offset: list[float], leaky_slope: list[float],
                          meta: list[str]) -> Batch:
    """The PyG ``Batch`` of ``B = len(activations)`` graphs of one architecture from their stacked features
    ``x`` ``(B*N, 1)`` and ``edge_attr`` ``(B*E, K)`` and per-graph settings; the cached ``edge_index`` is
    offset for all graphs at once."""
    s = graph_structure(arch)
    b, n, e = len(activations), s.num_nodes, s.edge_offsets[-1]
    node_shift = (torch.arange(b) * n).view(b, 1, 1)
    records = [activation(a) for a in activations]
    batch = Batch(
        x=x,
        edge_index=(s.edge_index.unsqueeze(0) + node_shift).transpose(0, 1).reshape(2, b * e),
        edge_attr=edge_attr,
        node_layer=s.node_layer.repeat(b),
        edge_layer=s.edge_layer.repeat(b),
        node_type=s.node_type.repeat(b),
        input_mask=s.input_mask.repeat(b),
        hidden_mask=s.hidden_mask.repeat(b),
        output_mask=s.output_mask.repeat(b),
        act=torch.tensor([r.id for r in records]),
        group=torch.tensor([r.group_id for r in records]),
        arch=[arch] * b,
        activation=list(activations),
        w0=torch.tensor([float(v) for v in w0], dtype=torch.float64),
        output_offset=torch.tensor([float(v) for v in output_offset], dtype=torch.float64),
        leaky_slope=torch.tensor([float(v) for v in leaky_slope], dtype=torch.float64),
        meta=list(meta),
        batch=torch.arange(b).repeat_interleave(n),
        ptr=torch.arange(b + 1) * n,
    )
    batch._num_graphs = b
    return batch


def collate(graphs: list[Data]) -> Batch:
    """A PyG ``Batch`` of graphs; graphs sharing one architecture reuse its cached ``edge_index``
    (:func:`batch_of_architecture`); mixed architectures fall back to ``Batch.from_data_list``. Both give
    the same attributes (only the second can be indexed back into graphs, ``batch[i]``)."""
    first = graphs[0]
    if any(g.arch != first.arch for g in graphs):
        batch = Batch.from_data_list(graphs)
        for key in ("w0", "output_offset", "leaky_slope"):  # float64 on both paths (exact sine frequencies)
            batch[key] = torch.tensor([float(g[key]) for g in graphs], dtype=torch.float64)
        return batch
    return batch_of_architecture(
        first.arch, torch.cat([g.x for g in graphs]), torch.cat([g.edge_attr for g in graphs]),
        [g.activation for g in graphs], [g.w0 for g in graphs], [g.output_offset for g in graphs],
        [g.leaky_slope for g in graphs], [g.meta for g in graphs])
