"""An MLP on the flattened parameter vector (not permutation invariant: a reference point)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from scalegmn.baselines.params import group_by_architecture, num_graphs
from scalegmn.nn.invariant import mlp


class FlatMLP(nn.Module):
    """``(B, out_dim)`` from ``[W_0.flatten() ‖ b_0 ‖ W_1.flatten() ‖ ...]`` zero-padded to ``input_dim``
    (default: the example's parameter count)."""

    equivariant = False  # invariant only: (B, out_dim) outputs, no equivariant variant

    def __init__(self, example, out_dim: int, hidden: int = 128, layers: int = 3, input_dim: int | None = None) -> None:
        super().__init__()
        self.input_dim = input_dim or int(example.hidden_mask.sum() + example.output_mask.sum()) + sum(
            int(w.numel()) for w in group_by_architecture(example)[0].weights)
        self.mlp = mlp(self.input_dim, hidden, out_dim, layers)

    def flatten(self, data) -> Tensor:
        """``(B, input_dim)`` parameter vectors."""
        dtype = self.mlp[0].weight.dtype
        out = torch.zeros(num_graphs(data), self.input_dim, dtype=dtype, device=data.x.device)
        for group in group_by_architecture(data):
            parts = []
            for w, b in zip(group.weights, group.biases):
                parts += [w.reshape(w.shape[0], -1), b]
            flat = torch.cat(parts, dim=1)
            if flat.shape[1] > self.input_dim:
                raise ValueError(f"a network has {flat.shape[1]} parameters; the MLP takes at most {self.input_dim}")
            out[group.indices, : flat.shape[1]] = flat.to(dtype)
        return out

    def forward(self, data) -> Tensor:
        return self.mlp(self.flatten(data))
