"""An MLP on the flattened parameter vector (not permutation invariant: a reference point)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from scalegmn.core.weight_batch import WeightBatch
from scalegmn.nn.feature_cache import CachedNetworkFeatures, FeatureCache
from scalegmn.nn.invariant import mlp


class FlatMLP(CachedNetworkFeatures, nn.Module):
    """``(B, out_dim)`` from ``[W_0.flatten() ‖ b_0 ‖ W_1.flatten() ‖ ...]`` zero-padded to ``input_dim``
    (default: the example's parameter count); with ``normalize`` each layer divided by its RMS over the training
    networks (:class:`~scalegmn.nn.input_scale.LayerScale`). The vectors of a dataset's networks as they are
    are kept once built (:class:`~scalegmn.nn.feature_cache.FeatureCache`: ``input_dim`` floats per network).
    """

    equivariant = False  # invariant only: (B, out_dim) outputs, no equivariant variant
    symmetries = ()  # a reference point: no symmetry

    def __init__(self, example, out_dim: int, hidden: int = 128, layers: int = 3, input_dim: int | None = None,
                 normalize: bool = False) -> None:
        super().__init__()
        self.init_input_scale(example.arch.num_layers, normalize)
        self.input_dim = input_dim or int(WeightBatch.from_graphs(example)[0][1].flatten().shape[1])
        self.mlp = mlp(self.input_dim, hidden, out_dim, layers)
        self.feature_cache = FeatureCache()

    def flatten(self, data) -> Tensor:
        """``(B, input_dim)`` parameter vectors."""
        return self.cached_features(data, self.input_dim, self.mlp[0].weight.dtype, self._flat)

    def _flat(self, group: WeightBatch) -> Tensor:
        """``(B_a, P_a)`` parameter vectors of one architecture's networks."""
        flat = group.flatten()
        if flat.shape[1] > self.input_dim:
            raise ValueError(f"a network has {flat.shape[1]} parameters; the MLP takes at most {self.input_dim}")
        return flat

    def forward(self, data) -> Tensor:
        return self.mlp(self.flatten(data))
