"""Function-preserving symmetries of feed-forward networks: permutations and scalings.

For hidden layer ``l`` a permutation ``P_l`` and scalars ``q_l`` act as
``W_l <- Q_l P_l W_l P_{l-1}^T Q_{l-1}^{-1}``, ``b_l <- Q_l P_l b_l``. A permutation is stored as an
index tensor ``perm`` (new neuron ``i`` is old neuron ``perm[i]``) and ``q`` is indexed in the new order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from scalegmn.core.activations import scaling_group
from scalegmn.core.weight_batch import WeightBatch
from scalegmn.core.weights import NetworkWeights


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
    return sample_group_element(net.layer_sizes[1:-1], net.activation, generator, permute=permute, scale=scale,
                                max_log_scale=max_log_scale)


def sample_group_element(hidden_sizes: Sequence[int], activation: str, generator: torch.Generator, *,
                         permute: bool = True, scale: bool = True,
                         max_log_scale: float = math.log(4.0)) -> SymmetryTransform:
    """:func:`sample_symmetry` for a network with hidden layers of ``hidden_sizes`` and ``activation``."""
    group = scaling_group(activation) if scale else "none"
    perms, scales = [], []
    for n in hidden_sizes:
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


def _gather(t: Tensor, dim: int, index: Tensor) -> Tensor:
    """``t`` ``(B, ...)`` with axis ``dim`` reordered per network by ``index`` ``(B, n)``."""
    shape = [index.shape[0]] + [1] * (t.dim() - 1)
    shape[dim] = index.shape[1]
    return torch.gather(t, dim, index.view(shape).expand(*t.shape[:dim], index.shape[1], *t.shape[dim + 1:]))


def _along(q: Tensor, dim: int, ndim: int) -> Tensor:
    """``q`` ``(B, n)`` shaped to broadcast along axis ``dim`` of a ``ndim``-D tensor."""
    shape = [q.shape[0]] + [1] * (ndim - 1)
    shape[dim] = q.shape[1]
    return q.view(shape)


def _incoming(w: Tensor, perm: Tensor, q: Tensor, flatten_size: int) -> Tensor:
    """Reorder by ``perm`` and divide by ``q`` the input axis (axis 2) of weights ``(B, out, in, ...)``; a
    flatten groups ``flatten_size`` columns per channel."""
    grouped = w.reshape(w.shape[0], w.shape[1], -1, flatten_size) if flatten_size > 1 else w
    moved = _gather(grouped, 2, perm) / _along(q, 2, grouped.dim())
    return moved.reshape(w.shape)


def _flatten_size_into(weights: WeightBatch, layer: int) -> int:
    """How many columns of ``layer`` one channel of the previous layer feeds (a flatten), else 1."""
    arch = weights.arch
    after_conv = arch.kernel_shapes[layer - 1] is not None and arch.kernel_shapes[layer] is None
    return arch.flatten_size if after_conv and arch.pooling == "flatten" else 1


def transform_weights(weights: WeightBatch, permutations: list[Tensor], scales: list[Tensor]) -> WeightBatch:
    """Every network of ``weights`` moved by its own group element: per hidden layer ``permutations[l]``
    ``(B, n_l)`` (new neuron ``i`` is old neuron ``perm[i]``) and ``scales[l]`` ``(B, n_l)`` (new order)."""
    hidden = weights.arch.num_layers - 1
    if len(permutations) != hidden or len(scales) != hidden:
        raise ValueError(f"transform has {len(permutations)} layers, network has {hidden} hidden layers")
    out_w, out_b = [], []
    for l, (w, b) in enumerate(zip(weights.weights, weights.biases)):
        if l < hidden:
            perm, q = permutations[l], scales[l].to(w.dtype)
            w = _gather(w, 1, perm) * _along(q, 1, w.dim())
            b = _gather(b, 1, perm) * q
        if l > 0:
            w = _incoming(w, permutations[l - 1], scales[l - 1].to(w.dtype), _flatten_size_into(weights, l))
        out_w.append(w)
        out_b.append(b)
    return WeightBatch(weights.arch, out_w, out_b)


def apply_symmetry(net: NetworkWeights, transform: SymmetryTransform) -> NetworkWeights:
    """The network with ``transform`` applied; it computes the same function as ``net``."""
    moved = transform_weights(WeightBatch.from_networks([net]), [p.unsqueeze(0) for p in transform.permutations],
                              [q.unsqueeze(0) for q in transform.scales])
    return moved.networks([net])[0]


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


#: Canonical forms of sine networks: ``none`` (as they are), ``phase`` (every hidden ``w0 b`` shifted by a multiple
#: of ``pi`` into ``[-pi/2, pi/2)``; signs as training left them) and ``full`` (``phase``, then every neuron with a
#: negative ``w0 b`` negated: one member of every sign orbit).
CANONICAL_FORMS: tuple[str, ...] = ("none", "phase", "full")


def check_canonical_form(form: str) -> str:
    """``form`` if it is one of :data:`CANONICAL_FORMS`, else ``ValueError``."""
    if form not in CANONICAL_FORMS:
        raise ValueError(f"canonical form must be one of {', '.join(CANONICAL_FORMS)}, got {form!r}")
    return form


def canonicalize_phases(weights: WeightBatch, w0: Tensor, form: str = "full") -> WeightBatch:
    """:func:`phase_canonicalize` of every network of a batch of sine networks (``w0`` ``(B,)``)."""
    if check_canonical_form(form) == "none":
        return weights
    ws, bs = list(weights.weights), list(weights.biases)
    w0 = w0.to(bs[0].device)
    w0_b = w0.to(bs[0].dtype).view(-1, 1)
    half_turn = (math.pi / w0.double()).to(bs[0].dtype).view(-1, 1)
    for l in range(weights.arch.num_layers - 1):
        w, b = ws[l], bs[l]
        k = torch.floor(w0_b * b / math.pi + 0.5)
        b = torch.where(k != 0, b - k * half_turn, b)
        parity = (1.0 - 2.0 * torch.remainder(k, 2)).to(b.dtype)  # (-1)^k from the shift by k*pi
        if form == "full":
            row = torch.where(w0_b * b < 0, -1.0, 1.0).to(b.dtype)  # negate the neuron: sin(-z) = -sin(z)
            ws[l] = w * _along(row, 1, w.dim())
            b = b * row
            parity = parity * row
        bs[l] = b
        ident = torch.arange(b.shape[1], device=b.device).expand(b.shape[0], -1)
        ws[l + 1] = _incoming(ws[l + 1], ident, parity, _flatten_size_into(weights, l + 1))
    return WeightBatch(weights.arch, ws, bs)


def phase_canonicalize(net: NetworkWeights, form: str = "full") -> NetworkWeights:
    """A canonical form (:data:`CANONICAL_FORMS`) of every hidden sine neuron; the function is unchanged.

    A hidden neuron computes ``sin(z)`` with ``z = w0 (W x + b)``. Using ``sin(z + k pi) = (-1)^k sin(z)``, its
    phase ``w0 b`` is shifted by ``k pi`` into ``[-pi/2, pi/2)`` (``phase``); ``full`` then negates the
    neuron's incoming weights and bias if the phase is negative (``sin(-z) = -sin(z)``), so every hidden
    ``w0 b`` lies in ``[0, pi/2]``. Each sign change is compensated on the neuron's outgoing weights; the output
    layer is left as it is. ``phase`` removes the periodicity, which no metanetwork here is built for; ``full``
    also removes the sign symmetry that ScaleGMN is invariant to by construction.
    """
    if net.activation != "sine":
        raise ValueError(f"phase canonicalization needs a sine network, got activation {net.activation!r}")
    w0 = torch.tensor([net.w0], dtype=torch.float64, device=net.biases[0].device)
    return canonicalize_phases(WeightBatch.from_networks([net]), w0, form).networks([net])[0]
