"""Positional embeddings of nodes: additive on nodes without scaling symmetry, multiplicative on the rest."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from scalegmn.nn.modes import PLAIN


class NodeEmbedding(nn.Module):
    """Initial node states ``(N, 1) -> (N, d)``: ``h_i = x_i * a[type_i] + [mode_i == PLAIN] * c[type_i]``.

    ``node_type`` (see :func:`scalegmn.core.graph.graph_structure`) gives every input and output neuron its own
    type and every hidden layer one type, so ``a`` is a multiplicative embedding shared by all neurons of a
    hidden layer (it commutes with scaling ``x_i -> q_i x_i``), and the additive ``c`` only reaches nodes
    without scaling symmetry (I/O nodes; every node under ``symmetry="permutation"``).
    """

    def __init__(self, num_types: int, dim: int) -> None:
        super().__init__()
        self.num_types = num_types
        self.mult = nn.Parameter(torch.randn(num_types, dim))
        self.add = nn.Parameter(torch.randn(num_types, dim))

    def forward(self, x: Tensor, node_type: Tensor, mode: Tensor) -> Tensor:
        if node_type.numel() and int(node_type.max()) >= self.num_types:
            raise ValueError(
                f"node type {int(node_type.max())} is out of range: the model was built for {self.num_types} "
                "node types (input + output neurons + max_layers hidden layers); raise max_layers"
            )
        plain = (mode == PLAIN).unsqueeze(-1).to(x.dtype)
        return x * self.mult[node_type] + plain * self.add[node_type]
