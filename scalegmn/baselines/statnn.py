"""StatNN (Unterthiner et al. 2020): 7 statistics per weight and bias tensor, then an MLP."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from scalegmn.core.weight_batch import WeightBatch
from scalegmn.nn.feature_cache import CachedNetworkFeatures, FeatureCache
from scalegmn.nn.invariant import mlp

QUANTILES = (0.0, 0.25, 0.5, 0.75, 1.0)
NUM_STATS = 2 + len(QUANTILES)


def statistics(t: Tensor) -> Tensor:
    """``(B, ...) -> (B, 7)``: mean, std, min, 25/50/75 % quantiles and max of each row."""
    flat = t.reshape(t.shape[0], -1)
    q = torch.quantile(flat, torch.tensor(QUANTILES, dtype=flat.dtype, device=flat.device), dim=1).T
    std = flat.std(dim=1, unbiased=False)
    return torch.cat([flat.mean(dim=1, keepdim=True), std.unsqueeze(1), q], dim=1)


class StatNN(CachedNetworkFeatures, nn.Module):
    """``(B, out_dim)``: an MLP (``layers`` linear layers of width ``hidden``) on
    ``[stats(W_l) ‖ stats(b_l)]`` for ``l < max_layers`` (zeros for layers a network does not have); with
    ``normalize`` each layer is first divided by its RMS over the training networks
    (:class:`~scalegmn.nn.input_scale.LayerScale`). The statistics of a dataset's networks as they are are
    computed once (:class:`~scalegmn.nn.feature_cache.FeatureCache`)."""

    equivariant = False  # invariant only: (B, out_dim) outputs, no equivariant variant
    symmetries = ("permutation",)  # statistics of whole tensors; not scale invariant

    def __init__(self, example, out_dim: int, hidden: int = 128, layers: int = 3, max_layers: int | None = None,
                 normalize: bool = False) -> None:
        super().__init__()
        self.max_layers = max_layers or example.arch.num_layers
        self.init_input_scale(self.max_layers, normalize)
        self.in_dim = 2 * NUM_STATS * self.max_layers
        self.mlp = mlp(self.in_dim, hidden, out_dim, layers)
        self.feature_cache = FeatureCache()

    def features(self, data) -> Tensor:
        """``(B, 14 * max_layers)`` statistics features."""
        return self.cached_features(data, self.in_dim, self.mlp[0].weight.dtype, self._statistics)

    def _statistics(self, group: WeightBatch) -> Tensor:
        """``(B_a, 14 * num_layers)`` statistics of one architecture's networks."""
        if group.arch.num_layers > self.max_layers:
            raise ValueError(f"a network has {group.arch.num_layers} layers; StatNN was built for "
                             f"max_layers={self.max_layers}")
        return torch.cat([torch.cat([statistics(w), statistics(b)], dim=1)
                          for w, b in zip(group.weights, group.biases)], dim=1)

    def forward(self, data) -> Tensor:
        return self.mlp(self.features(data))
