"""A tiny metanetwork for tests (importable as ``toy_models:ToyMetanet`` with ``tests/`` on the path).

It is permutation invariant (mean pooling) or, with ``equivariant=True``, permutation equivariant
(per-node / per-edge MLPs); it has no scaling symmetry. It exists to exercise the training machinery
quickly, not to compete with the real metanetworks.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.data import Batch, Data
from torch_geometric.nn import global_mean_pool


def _mlp(n_in: int, hidden: int, n_out: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, n_out))


class ToyMetanet(nn.Module):
    """DeepSets over node features ``(N, 1)`` and edge features ``(E, K)``.

    Invariant: ``forward(batch) -> (num_graphs, out_dim)``. Equivariant: ``(node_out (N, 1),
    edge_out (E, K))`` aligned with ``batch.x`` / ``batch.edge_attr``.
    """

    supports_equivariant = True  # built with equivariant=True it sets the instance's `equivariant`

    def __init__(self, example: Data, out_dim: int, hidden: int = 16, dropout: float = 0.0,
                 equivariant: bool = False) -> None:
        super().__init__()
        edge_dim = int(example.edge_attr.shape[1])
        self.equivariant = equivariant
        self.node = _mlp(1, hidden, hidden, dropout)
        self.edge = _mlp(edge_dim, hidden, hidden, dropout)
        if equivariant:
            self.node_head = nn.Linear(hidden, 1)
            self.edge_head = nn.Linear(hidden, edge_dim)
        else:
            self.head = _mlp(2 * hidden, hidden, out_dim, dropout)

    def forward(self, batch: Batch) -> Tensor | tuple[Tensor, Tensor]:
        h = self.node(batch.x)
        e = self.edge(batch.edge_attr)
        if self.equivariant:
            return self.node_head(h), self.edge_head(e)
        edge_graph = batch.batch[batch.edge_index[0]]
        size = int(batch.num_graphs)
        pooled = torch.cat([global_mean_pool(h, batch.batch, size), global_mean_pool(e, edge_graph, size)], dim=1)
        return self.head(pooled)
