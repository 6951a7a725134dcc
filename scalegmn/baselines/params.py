"""Per-layer weight and bias tensors of a batch of graphs, grouped by architecture (vectorised)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from scalegmn.graph import graph_structure
from scalegmn.weights import Architecture


@dataclass
class ArchGroup:
    """The graphs of one architecture in a batch: ``indices`` ``(B_a,)`` their positions in the batch;
    ``weights[l]`` ``(B_a, out, in[, kh, kw])`` and ``biases[l]`` ``(B_a, out)`` in PyTorch layout (a
    linear layer after a flatten: ``(B_a, out, in * flatten_size)``)."""

    arch: Architecture
    indices: Tensor
    weights: list[Tensor]
    biases: list[Tensor]


def architectures(data) -> list[Architecture]:
    arch = data.arch
    return list(arch) if isinstance(arch, (list, tuple)) else [arch]


def group_by_architecture(data) -> list[ArchGroup]:
    """Split a PyG batch (or one graph) of :func:`scalegmn.graph.to_graph` graphs by architecture."""
    archs = architectures(data)
    device = data.x.device
    node_counts = torch.tensor([graph_structure(a).num_nodes for a in archs])
    edge_counts = torch.tensor([graph_structure(a).edge_offsets[-1] for a in archs])
    node_ptr = torch.cat([torch.zeros(1, dtype=torch.long), node_counts.cumsum(0)])
    edge_ptr = torch.cat([torch.zeros(1, dtype=torch.long), edge_counts.cumsum(0)])
    if int(node_ptr[-1]) != data.num_nodes or int(edge_ptr[-1]) != data.edge_attr.shape[0]:
        raise ValueError("the batch's node/edge counts do not match its architectures")
    order: dict[Architecture, list[int]] = {}
    for i, a in enumerate(archs):
        order.setdefault(a, []).append(i)
    groups = []
    for arch, members in order.items():
        s = graph_structure(arch)
        idx = torch.tensor(members)
        nodes = (node_ptr[idx].unsqueeze(1) + torch.arange(s.num_nodes)).to(device)
        edges = (edge_ptr[idx].unsqueeze(1) + torch.arange(s.edge_offsets[-1])).to(device)
        x = data.x[nodes][..., 0]
        feats = data.edge_attr[edges]
        b = len(members)
        weights, biases = [], []
        for l in range(arch.num_layers):
            n_in, n_out = arch.layer_sizes[l], arch.layer_sizes[l + 1]
            k = arch.kernel_shapes[l]
            w = feats[:, s.edge_offsets[l] : s.edge_offsets[l + 1], : s.edge_widths[l]]
            shape = (b, n_out, n_in, k[0], k[1]) if k is not None else (b, n_out, n_in * s.edge_widths[l])
            weights.append(w.reshape(shape))
            biases.append(x[:, s.node_offsets[l + 1] : s.node_offsets[l + 2]])
        groups.append(ArchGroup(arch, idx.to(device), weights, biases))
    return groups


def num_graphs(data) -> int:
    return len(architectures(data))
