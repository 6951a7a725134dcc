"""An MLP on the flattened parameter vector (not permutation invariant: a reference point)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from scalegmn.nn.input_scale import ScaledInputs
from scalegmn.nn.invariant import mlp
from scalegmn.core.weight_batch import WeightBatch, graph_architectures


class FlatMLP(ScaledInputs, nn.Module):
    """``(B, out_dim)`` from ``[W_0.flatten() ‖ b_0 ‖ W_1.flatten() ‖ ...]`` zero-padded to ``input_dim``
    (default: the example's parameter count); with ``normalize`` each layer divided by its RMS over the training
    networks (:class:`~scalegmn.nn.input_scale.LayerScale`)."""

    equivariant = False  # invariant only: (B, out_dim) outputs, no equivariant variant
    symmetries = ()  # a reference point: no symmetry

    def __init__(self, example, out_dim: int, hidden: int = 128, layers: int = 3, input_dim: int | None = None,
                 normalize: bool = False) -> None:
        super().__init__()
        self.init_input_scale(example.arch.num_layers, normalize)
        self.input_dim = input_dim or int(WeightBatch.from_graphs(example)[0][1].flatten().shape[1])
        self.mlp = mlp(self.input_dim, hidden, out_dim, layers)

    def flatten(self, data) -> Tensor:
        """``(B, input_dim)`` parameter vectors."""
        dtype = self.mlp[0].weight.dtype
        out = torch.zeros(len(graph_architectures(data)), self.input_dim, dtype=dtype, device=data.x.device)
        edge_attr, x = self.scaled_inputs(data)
        for indices, group in WeightBatch.from_graphs(data, x, edge_attr):
            flat = group.flatten()
            if flat.shape[1] > self.input_dim:
                raise ValueError(f"a network has {flat.shape[1]} parameters; the MLP takes at most {self.input_dim}")
            out[indices, : flat.shape[1]] = flat.to(dtype)
        return out

    def forward(self, data) -> Tensor:
        return self.mlp(self.flatten(data))
