"""The factorized (fast) ScaleGMN layer of ``scalegmn-fast``: edge gates, messages, node update.

Edge states are never materialised: ``e_ij = Σ_k w_ijk D_k ⊙ α_i ⊙ β_j`` with invariant node gates, so
messages are ``K`` sparse products (:mod:`~scalegmn.nn.edges`). Faster than the per-edge layer
(:mod:`~scalegmn.nn.per_edge`) but edges never pass through a nonlinearity of their own.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from scalegmn.nn.edges import EdgeOperator, aggregate
from scalegmn.nn.equivariant import ScaleEq
from scalegmn.nn.invariant import ScaleInv


class EdgeGates(nn.Module):
    """The edge update: invariant receiver and sender gates ``α_i``, ``β_j`` per direction.

    A layer's edge state is ``e_ij = Σ_k w_ijk D_k ⊙ α_i ⊙ β_j`` with ``(α, β) = ScaleInv(h)`` split per
    direction: the weights embedded by a learned ``K x d`` map ``D`` (bias-free, so ``e_ij`` scales like
    ``w_ij``) times an invariant, learned function of both endpoints (DESIGN §6's
    ``MLP([inv(h_i) ‖ inv(h_j)])`` in product form, so that edges are never materialised).
    """

    def __init__(self, dim: int, directions: int, inv_layers: int, layer_norm: bool = True) -> None:
        super().__init__()
        self.directions = directions
        self.inv = ScaleInv(dim, dim, 2 * directions * dim, inv_layers, layer_norm=layer_norm)

    def forward(self, h: Tensor, mode: Tensor) -> list[tuple[Tensor, Tensor]]:
        """Per direction ``(α, β)``, each ``(N, d)``; 1 plus a learned invariant."""
        g = 1.0 + self.inv(h, mode)
        chunks = g.chunk(2 * self.directions, dim=-1)
        return [(chunks[2 * r], chunks[2 * r + 1]) for r in range(self.directions)]


class Message(nn.Module):
    """Messages along one direction: ``m_i = α_i ⊙ Σ_{j->i} Σ_k w_ijk D_k ⊙ β_j ⊙ (Γ_h h_j)``.

    ``Γ_h h_j`` scales by ``q_j`` and the edge by ``q_i / q_j``, so ``m_i`` scales by ``q_i``; the sum
    aggregation is permutation invariant.
    """

    def __init__(self, dim: int, edge_dim: int) -> None:
        super().__init__()
        self.gamma_h = nn.Linear(dim, dim, bias=False)
        self.table = nn.Parameter(torch.randn(edge_dim, dim) / edge_dim**0.5)

    def forward(self, h: Tensor, gates: tuple[Tensor, Tensor], op: EdgeOperator) -> Tensor:
        alpha, beta = gates
        return alpha * aggregate(op, self.gamma_h(h) * beta, self.table)


class NodeUpdate(nn.Module):
    """``h_i <- h_i + ScaleEq([h_i ‖ m_i^fwd (‖ m_i^bwd)])``: every input scales by ``q_i``."""

    def __init__(self, dim: int, directions: int, inv_layers: int, layer_norm: bool = True) -> None:
        super().__init__()
        self.eq = ScaleEq((1 + directions) * dim, dim, dim, inv_layers, layer_norm=layer_norm)

    def forward(self, h: Tensor, messages: list[Tensor], mode: Tensor) -> Tensor:
        return h + self.eq(torch.cat([h] + messages, dim=-1), mode)


class FactorizedLayer(nn.Module):
    """Edge update, forward (and backward) messages, node update; ``(N, d) -> (N, d)``. ``layer_norm``: LayerNorm
    in the invariant heads of the gates and the update (before the sign symmetrization ``ρ(z) + ρ(-z)``, which
    without it starts nearly flat: it changes only by about ``z²``)."""

    def __init__(self, dim: int, edge_dim: int, directions: int, inv_layers: int, layer_norm: bool = True) -> None:
        super().__init__()
        self.gates = EdgeGates(dim, directions, inv_layers, layer_norm)
        self.messages = nn.ModuleList(Message(dim, edge_dim) for _ in range(directions))
        self.update = NodeUpdate(dim, directions, inv_layers, layer_norm)

    def forward(self, h: Tensor, mode: Tensor, ops: list[EdgeOperator]) -> Tensor:
        gates = self.gates(h, mode)
        msgs = [msg(h, g, op) for msg, g, op in zip(self.messages, gates, ops)]
        return self.update(h, msgs, mode)
