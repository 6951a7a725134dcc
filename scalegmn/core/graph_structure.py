"""What a network's graph looks like given only its architecture: node/edge index layout, shared by all
networks of that architecture and cached (see :mod:`scalegmn.core.graph` for the features).

Nodes are numbered layer by layer, input layer first; the edges of weight layer ``l`` run ``j -> i``
row-major over ``(i, j)``. Edge features of layer ``l`` are ``kh*kw`` wide (conv), ``flatten_size`` wide
(the first linear layer after a flatten) or 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import torch
from torch import Tensor

from scalegmn.core.weights import Architecture


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
