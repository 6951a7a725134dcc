"""Per-layer input scales of the graph metanetworks, fitted to the training networks.

A trained sine network's weights stay close to their random initialization: in the digits-inr zoo the
hidden-layer weights of a w0 = 30 SIREN have mean |w| ≈ 0.013 and its biases ≈ 0.02, while its first-layer
weights are ≈ 0.3. Fed as they are, the hidden layers' signal reaches the metanetwork tens of times weaker than
the first layer's, and training sits at chance for tens of epochs before it takes off. Dividing every layer by
its root mean square over the training networks puts all layers at unit scale. A positive constant per layer
commutes with hidden-neuron permutations and with the scaling symmetries (``w_ij -> q_i w_ij / q_j`` stays that
map after the division), so a model's invariance and equivariance are unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor, nn


class LayerScale(nn.Module):
    """``(edge_attr (E, K), x (N, 1)) -> (edge_attr / s_w[edge_layer], x / s_b[node_layer])``: every entry of weight
    layer ``l`` divided by ``s_w[l]``, the bias of every neuron of layer ``l`` by ``s_b[l]``. The identity until
    :meth:`fit` (and for layers the training networks do not have, or whose entries are all zero: input neurons)."""

    def __init__(self, max_layers: int) -> None:
        super().__init__()
        self.register_buffer("weight_rms", torch.ones(max_layers))  # weight layers 0 .. max_layers - 1
        self.register_buffer("bias_rms", torch.ones(max_layers + 1))  # neuron layers 0 (inputs) .. max_layers

    @staticmethod
    def _rms(values: Tensor, layer: Tensor, size: int) -> tuple[Tensor, Tensor]:
        """``(sum of squares, count)`` per layer, each ``(size,)`` float64."""
        squares = values.double().square().reshape(len(values), -1)
        total = torch.zeros(size, dtype=torch.float64).index_add_(0, layer, squares.sum(1))
        count = torch.bincount(layer, minlength=size).double() * squares.shape[1]
        return total, count

    @torch.no_grad()
    def fit(self, batches: Iterable) -> None:
        """Set the scales from graph ``batches`` of the training networks (each with ``edge_attr``, ``x``,
        ``edge_layer`` and ``node_layer``); ``ValueError`` if there are none or a network is deeper than the
        model accepts."""
        sums = None
        for data in batches:
            if int(data.node_layer.max()) >= len(self.bias_rms):
                raise ValueError(f"a training network has {int(data.node_layer.max())} layers; the input scales "
                                 f"were built for at most {len(self.bias_rms) - 1}")
            parts = (*self._rms(data.edge_attr, data.edge_layer.cpu(), len(self.weight_rms)),
                     *self._rms(data.x, data.node_layer.cpu(), len(self.bias_rms)))
            sums = parts if sums is None else tuple(a + b for a, b in zip(sums, parts))
        if sums is None:
            raise ValueError("no training networks to fit the input scales to")
        for buffer, total, count in ((self.weight_rms, sums[0], sums[1]), (self.bias_rms, sums[2], sums[3])):
            rms = (total / count.clamp_min(1)).sqrt()
            buffer.copy_(torch.where(rms > 1e-12, rms, torch.ones_like(rms)))

    def forward(self, edge_attr: Tensor, x: Tensor, data) -> tuple[Tensor, Tensor]:
        weight_rms = self.weight_rms.to(edge_attr.dtype)[data.edge_layer].unsqueeze(-1)
        bias_rms = self.bias_rms.to(x.dtype)[data.node_layer].unsqueeze(-1)
        return edge_attr / weight_rms, x / bias_rms

    def extra_repr(self) -> str:
        return f"weight_rms={self.weight_rms.tolist()}, bias_rms={self.bias_rms.tolist()}"


class ScaledInputs:
    """For metanetworks with an optional :class:`LayerScale` ``input_scale`` (``None``: inputs as they are): the
    ``fit_inputs`` protocol the trainer calls once with the training networks, and the scaled features."""

    input_scale: LayerScale | None

    def init_input_scale(self, max_layers: int, normalize: bool) -> None:
        """Per-layer input scales for networks of up to ``max_layers`` layers if ``normalize``, else none."""
        self.input_scale = LayerScale(max_layers) if normalize else None

    def fit_inputs(self, batches: Iterable) -> None:
        """Fit the per-layer input scales to graph ``batches`` of the training networks; a no-op without them."""
        if self.input_scale is not None:
            self.input_scale.fit(batches)

    def scaled_inputs(self, data, edge_attr: Tensor | None = None, x: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """``(edge_attr, x)`` of ``data`` (or the ones given, aligned with it), divided by the input scales."""
        edge_attr = data.edge_attr if edge_attr is None else edge_attr
        x = data.x if x is None else x
        return (edge_attr, x) if self.input_scale is None else self.input_scale(edge_attr, x, data)
