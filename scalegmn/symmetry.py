"""Function-preserving symmetries of feed-forward networks: permutations and scalings.

For hidden layer ``l`` a permutation ``P_l`` and scalars ``q_l`` act as
``W_l <- Q_l P_l W_l P_{l-1}^T Q_{l-1}^{-1}``, ``b_l <- Q_l P_l b_l``. A permutation is stored as an
index tensor ``perm`` (new neuron ``i`` is old neuron ``perm[i]``) and ``q`` is indexed in the new order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

from scalegmn.weights import NetworkWeights

ScalingGroup = Literal["positive", "sign", "none"]

SCALING_GROUPS: dict[str, ScalingGroup] = {
    "relu": "positive",
    "leaky_relu": "positive",
    "tanh": "sign",
    "sine": "sign",
    "sigmoid": "none",
    "gelu": "none",
}


def scaling_group(activation: str) -> ScalingGroup:
    """The group of scalars ``q`` with ``act(q x) = q act(x)``: positive reals, signs, or trivial."""
    try:
        return SCALING_GROUPS[activation]
    except KeyError:
        raise ValueError(f"unknown activation {activation!r}") from None


@dataclass
class SymmetryTransform:
    """One element of the symmetry group: per hidden layer ``1..L-1`` a permutation and scalars."""

    permutations: list[Tensor]
    scales: list[Tensor]


def sample_symmetry(
    net: NetworkWeights,
    generator: torch.Generator,
    *,
    permute: bool = True,
    scale: bool = True,
    max_log_scale: float = math.log(4.0),
) -> SymmetryTransform:
    """Draw a random group element for ``net``.

    Positive groups: ``q = exp(u)``, ``u ~ U[-max_log_scale, max_log_scale]``; sign groups: uniform ``±1``;
    permutation-only activations get ``q = 1``.
    """
    group = scaling_group(net.activation) if scale else "none"
    perms, scales = [], []
    for n in net.layer_sizes[1:-1]:
        perm = torch.randperm(n, generator=generator) if permute else torch.arange(n)
        if group == "positive":
            u = torch.rand(n, generator=generator, dtype=torch.float64) * 2.0 - 1.0
            q = torch.exp(u * max_log_scale)
        elif group == "sign":
            q = torch.randint(0, 2, (n,), generator=generator).to(torch.float64) * 2.0 - 1.0
        else:
            q = torch.ones(n, dtype=torch.float64)
        perms.append(perm)
        scales.append(q)
    return SymmetryTransform(perms, scales)


def _transform_incoming(w: Tensor, perm_in: Tensor, q_in: Tensor, flatten_size: int) -> Tensor:
    """Permute and divide by ``q`` the input axis (axis 1) of a weight; a flatten groups columns by channel."""
    if flatten_size > 1:
        out = w.shape[0]
        w3 = w.reshape(out, -1, flatten_size)[:, perm_in, :] / q_in.view(1, -1, 1)
        return w3.reshape(out, -1)
    shape = (1, -1) + (1,) * (w.dim() - 2)
    return w[:, perm_in] / q_in.view(shape)


def apply_symmetry(net: NetworkWeights, transform: SymmetryTransform) -> NetworkWeights:
    """The network with ``transform`` applied; it computes the same function as ``net``."""
    hidden = net.num_layers - 1
    if len(transform.permutations) != hidden or len(transform.scales) != hidden:
        raise ValueError(f"transform has {len(transform.permutations)} layers, network has {hidden} hidden layers")
    weights, biases = [], []
    conv = net.is_conv
    for l, (w, b) in enumerate(zip(net.weights, net.biases)):
        if l < hidden:
            perm, q = transform.permutations[l], transform.scales[l].to(w.dtype)
            w = w[perm] * q.view((-1,) + (1,) * (w.dim() - 1))
            b = b[perm] * q
        if l > 0:
            flat = net.flatten_size if conv[l - 1] and not conv[l] and net.pooling == "flatten" else 1
            w = _transform_incoming(w, transform.permutations[l - 1], transform.scales[l - 1].to(w.dtype), flat)
        weights.append(w)
        biases.append(b)
    return net.replace_params(weights, biases)


def random_symmetry(
    net: NetworkWeights,
    generator: torch.Generator,
    *,
    permute: bool = True,
    scale: bool = True,
    max_log_scale: float = math.log(4.0),
) -> NetworkWeights:
    """A randomly permuted and scaled copy of ``net`` computing the same function (see :func:`sample_symmetry`)."""
    transform = sample_symmetry(net, generator, permute=permute, scale=scale, max_log_scale=max_log_scale)
    return apply_symmetry(net, transform)


def phase_canonicalize(net: NetworkWeights) -> NetworkWeights:
    """Canonical phase of every hidden sine neuron; the function is unchanged.

    A hidden neuron computes ``sin(z)`` with ``z = w0 (W x + b)``. Using ``sin(z + k pi) = (-1)^k sin(z)``
    and ``sin(-z) = -sin(z)``, its phase ``w0 b`` is first shifted by ``k pi`` into ``[-pi/2, pi/2)`` and
    then, if negative, the neuron's incoming weights and bias are negated. Each sign change is compensated
    on the neuron's outgoing weights. Afterwards every hidden ``w0 b`` lies in ``[0, pi/2]``. The output
    layer is left as it is.
    """
    if net.activation != "sine":
        raise ValueError(f"phase canonicalization needs a sine network, got activation {net.activation!r}")
    weights, biases = list(net.weights), list(net.biases)
    hidden = net.num_layers - 1
    conv = net.is_conv
    for l in range(hidden):
        w, b = weights[l], biases[l]
        k = torch.floor(net.w0 * b / math.pi + 0.5)
        b = torch.where(k != 0, b - k * (math.pi / net.w0), b)
        row = torch.where(net.w0 * b < 0, -1.0, 1.0).to(b.dtype)  # negate the neuron: sin(-z) = -sin(z)
        parity = 1.0 - 2.0 * torch.remainder(k, 2)  # (-1)^k from the shift by k*pi
        sign = row * parity.to(b.dtype)
        weights[l] = w * row.view((-1,) + (1,) * (w.dim() - 1))
        biases[l] = b * row
        flat = net.flatten_size if conv[l] and not conv[l + 1] and net.pooling == "flatten" else 1
        ident = torch.arange(b.numel())
        weights[l + 1] = _transform_incoming(weights[l + 1], ident, sign, flat)
    return net.replace_params(weights, biases)
