"""A worked example of a scalegmn plug-in: a metanetwork in its own package (see README, "Add your metanetwork").

``LayerNorms`` predicts from the log-norm of every layer's weights and of every layer's biases. It is
permutation invariant (sums over neurons) but not scale invariant (a ReLU rescaling moves norms between
layers): it says so in ``symmetries``, which the symmetry checker compares with what it measures.
Installed, it is the method ``layer-norms`` (the entry point in ``pyproject.toml``); without installing it,
it is ``scalegmn_layer_norms:LayerNorms`` with this package's folder on ``PYTHONPATH``:

    .venv/bin/pip install -e examples/scalegmn-layer-norms && .venv/bin/scalegmn check-symmetry layer-norms
    PYTHONPATH=examples/scalegmn-layer-norms .venv/bin/scalegmn check-symmetry scalegmn_layer_norms:LayerNorms
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.data import Batch, Data


class LayerNorms(nn.Module):
    """An MLP on ``log(1 + ‖W_l‖)`` and ``log(1 + ‖b_l‖)`` per layer ``l < max_layers`` (zero beyond depth).

    Protocol: built as ``LayerNorms(example=graph, out_dim=k, **config)``; ``forward(batch)`` takes a PyG
    batch of ``scalegmn.core.graph.to_graph`` graphs and returns ``(num_graphs, out_dim)``. ``symmetries``
    (optional) names what it claims to be invariant to: ``"permutation"`` and/or ``"scaling"``.
    """

    symmetries = ("permutation",)

    def __init__(self, example: Data, out_dim: int, hidden: int = 32, max_layers: int = 8) -> None:
        super().__init__()
        self.max_layers = max_layers
        self.mlp = nn.Sequential(nn.Linear(2 * max_layers, hidden), nn.ReLU(), nn.Linear(hidden, out_dim))

    def _layer_norms(self, values: Tensor, graph: Tensor, layer: Tensor, num_graphs: int) -> Tensor:
        """``(num_graphs, max_layers)`` norms of ``values`` ``(M,)`` grouped by graph and layer."""
        keep = layer < self.max_layers
        index = graph[keep] * self.max_layers + layer[keep]
        squares = torch.zeros(num_graphs * self.max_layers, dtype=values.dtype, device=values.device)
        squares.index_add_(0, index, values[keep] ** 2)
        return squares.view(num_graphs, self.max_layers).sqrt()

    def forward(self, batch: Batch) -> Tensor:
        n = int(batch.num_graphs)
        edge_graph = batch.batch[batch.edge_index[1]]
        weight_norms = self._layer_norms(batch.edge_attr.norm(dim=1), edge_graph, batch.edge_layer, n)
        has_bias = ~batch.input_mask
        bias_norms = self._layer_norms(batch.x[has_bias, 0], batch.batch[has_bias], batch.node_layer[has_bias] - 1, n)
        return self.mlp(torch.log1p(torch.cat([weight_norms, bias_norms], dim=1)))
