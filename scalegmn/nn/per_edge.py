"""ScaleGMN's message-passing layer with per-edge states (DESIGN §6, the paper's §5): message, aggregate,
node update, edge update.

Shapes: ``N`` nodes, ``E`` edges, ``d`` hidden width, ``K`` raw edge width. Node states ``h`` ``(N, d)``
scale like the neurons (``q_i``); edge states ``e`` ``(E, d_e)`` like the weights (``q_i / q_j`` for
``j -> i``). Layer 0 sees the raw weights ``w`` ``(E, K)`` as its edge states: the paper's bias-free
initial projection ``e⁰ = P w`` is folded into layer 0's bias-free maps (``Γ P`` is again a bias-free
map of ``w``), which saves two ``E x d x d`` products without changing the function class.

With a scaling symmetry (``symmetry`` ≠ ``permutation``):
- message ``m_ij = RowNet((Γ_e e_ij) ⊙ (Γ_h h_j))``: per edge, ScaleEq layers whose gates are invariants
  of that edge's product (it scales like the receiver ``q_i``), or a plain MLP when the receiver is PLAIN;
- aggregate ``m_i = Σ_{j->i} m_ij``;
- node update ``h_i <- RowNet([h_i ‖ m_i (‖ m_i^bwd)])`` (ScaleEq on hidden nodes, MLP on I/O nodes);
- edge update ``e_ij <- (Γ e_ij) ⊙ φ([ScaleInv(h_i) ‖ ScaleInv(h_j)])``.
ScaleGMN-B also sends ``j <- i`` messages along the stable reciprocal edge ``r(e_ij)`` (scales by
``q_j / q_i``). With ``symmetry="permutation"`` (GMN, NG-GNN style) messages and edge updates are MLPs
on ``[h_i ‖ h_j ‖ e_ij]`` and the node update an MLP.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from scalegmn.nn.invariant import ScaleInv, mlp
from scalegmn.nn.modes import PLAIN
from scalegmn.nn.norms import SafeLayerNorm
from scalegmn.nn.rows import RowNet, RowSplit


@dataclass
class EdgeGraph:
    """A batch's connectivity, computed once per forward, with the edges in the model's internal order.

    ``order`` ``(E,)`` sorts the batch's edges by kind — (scaled sender, scaled receiver), (PLAIN, scaled),
    (PLAIN, PLAIN), (scaled, PLAIN) — so that forward messages (receiver ``dst``) and backward messages
    (receiver ``src``) with and without a scaling symmetry are contiguous runs; ``src``/``dst`` ``(E,)``
    are in that order, and ``restore`` puts per-edge outputs back into the batch's order.
    """

    order: Tensor
    restore: Tensor
    src: Tensor
    dst: Tensor
    num_nodes: int
    nodes: RowSplit
    forward_rows: RowSplit
    backward_rows: RowSplit

    @classmethod
    def build(cls, edge_index: Tensor, mode: Tensor, num_nodes: int) -> "EdgeGraph":
        src, dst = edge_index
        src_plain, dst_plain = (mode[src] == PLAIN).long(), (mode[dst] == PLAIN).long()
        kind = 2 * dst_plain + torch.where(dst_plain.bool(), 1 - src_plain, src_plain)
        order = torch.sort(kind, stable=True).indices
        restore = torch.empty_like(order)
        restore[order] = torch.arange(order.numel(), device=order.device)
        src, dst = src[order], dst[order]
        return cls(order, restore, src, dst, num_nodes, RowSplit.of(mode), RowSplit.of(mode[dst]),
                   RowSplit.of(mode[src]))

    def direction(self, backward: bool) -> tuple[Tensor, Tensor, RowSplit]:
        """``(senders, receivers, receiver rows)`` of the forward or backward messages."""
        if backward:
            return self.dst, self.src, self.backward_rows
        return self.src, self.dst, self.forward_rows


class PairMLP(nn.Module):
    """``MLP([h_i ‖ h_j (‖ e_ij)])`` per edge ``j -> i``: ``(E, out_dim)``; a first layer, (LayerNorm,) SiLU,
    then ``layers`` more linear layers (``layers=0``: the SiLU output itself, ``hidden == out_dim``).

    The first layer is split as ``A h_i + B h_j + C e_ij``: ``A h`` and ``B h`` are computed per node and
    gathered, so only ``C e`` and the later layers cost ``E x d`` products.
    """

    def __init__(self, node_dim: int, edge_dim: int, hidden: int, out_dim: int, layers: int = 1,
                 layer_norm: bool = False) -> None:
        super().__init__()
        if layers == 0 and hidden != out_dim:
            raise ValueError(f"a one-layer PairMLP needs hidden == out_dim, got {hidden}, {out_dim}")
        self.hidden = hidden
        self.nodes = nn.Linear(node_dim, 2 * hidden)
        self.edge = nn.Linear(edge_dim, hidden, bias=False) if edge_dim else None
        self.norm = SafeLayerNorm(hidden) if layer_norm else nn.Identity()
        self.out = mlp(hidden, hidden, out_dim, layers, layer_norm) if layers else nn.Identity()

    def forward(self, h: Tensor, e: Tensor | None, receivers: Tensor, senders: Tensor) -> Tensor:
        a, b = self.nodes(h).split(self.hidden, dim=-1)
        z = a.index_select(0, receivers) + b.index_select(0, senders)
        if self.edge is not None:
            z = z + self.edge(e)
        return self.out(nn.functional.silu(self.norm(z)))


class ScaleMessage(nn.Module):
    """``m_ij = RowNet((Γ_e e_ij) ⊙ (Γ_h h_j))`` ``(E, d)``: scales like the receiver; ``layers`` ScaleEq
    layers whose gates have ``gate_layers`` linear layers after the canonicalized first one."""

    def __init__(self, dim: int, edge_dim: int, layers: int, gate_layers: int, layer_norm: bool) -> None:
        super().__init__()
        self.gamma_e = nn.Linear(edge_dim, dim, bias=False)
        self.gamma_h = nn.Linear(dim, dim, bias=False)
        self.net = RowNet(dim, dim, dim, layers, gate_layers, scaled=True, layer_norm=layer_norm)

    def forward(self, h: Tensor, e: Tensor, senders: Tensor, receivers: Tensor, rows: RowSplit) -> Tensor:
        return self.net(self.gamma_e(e) * self.gamma_h(h).index_select(0, senders), rows)


class PlainMessage(nn.Module):
    """GMN's message ``m_ij = MLP([h_i ‖ h_j ‖ e_ij])`` ``(E, d)``."""

    def __init__(self, dim: int, edge_dim: int, layer_norm: bool) -> None:
        super().__init__()
        self.mlp = PairMLP(dim, edge_dim, dim, dim, layer_norm=layer_norm)

    def forward(self, h: Tensor, e: Tensor, senders: Tensor, receivers: Tensor, rows: RowSplit) -> Tensor:
        return self.mlp(h, e, receivers, senders)


class ScaleEdgeUpdate(nn.Module):
    """``e_ij <- (Γ e_ij) ⊙ φ([ScaleInv(h_i) ‖ ScaleInv(h_j)])`` ``(E, d)``: scales like ``e_ij``; ``φ`` has
    ``gate_layers`` linear layers after its first."""

    def __init__(self, dim: int, edge_dim: int, inv_layers: int, gate_layers: int, layer_norm: bool) -> None:
        super().__init__()
        self.gamma = nn.Linear(edge_dim, dim, bias=False)
        self.inv = ScaleInv(dim, dim, dim, inv_layers, layer_norm=layer_norm)
        self.phi = PairMLP(dim, 0, dim, dim, gate_layers, layer_norm)

    def forward(self, h: Tensor, e: Tensor, graph: EdgeGraph) -> Tensor:
        s = self.inv(h, graph.nodes.mode)
        return self.gamma(e) * self.phi(s, None, graph.dst, graph.src)


class PlainEdgeUpdate(nn.Module):
    """GMN's edge update ``e_ij <- MLP([h_i ‖ h_j ‖ e_ij])`` ``(E, d)``."""

    def __init__(self, dim: int, edge_dim: int, layer_norm: bool) -> None:
        super().__init__()
        self.mlp = PairMLP(dim, edge_dim, dim, dim, layer_norm=layer_norm)

    def forward(self, h: Tensor, e: Tensor, graph: EdgeGraph) -> Tensor:
        return self.mlp(h, e, graph.dst, graph.src)


class PerEdgeLayer(nn.Module):
    """``(h (N, d), e (E, d_e)) -> (h (N, d), e (E, d))``: messages per direction, sum aggregation, node
    update, then (if ``update_edges``) the edge update from the new node states.

    ``residual`` adds the input states to the updates (equivariant: both scale alike); the edge residual
    needs ``d_e == d`` (not layer 0). ``inv_layers``: MLP depth of the per-node invariants;
    ``gate_layers``: of the per-edge gates (messages and edge update). ``layer_norm``: LayerNorm before
    every SiLU of the layer's MLPs and gates.
    """

    def __init__(self, dim: int, edge_dim: int, directions: int, scaled: bool, msg_layers: int,
                 inv_layers: int, gate_layers: int, update_edges: bool, residual: bool,
                 reciprocal: Callable[[Tensor], Tensor], layer_norm: bool = True) -> None:
        super().__init__()
        self.residual = residual
        self.edge_residual = residual and edge_dim == dim
        self.reciprocal = reciprocal
        if scaled:
            self.messages = nn.ModuleList(ScaleMessage(dim, edge_dim, msg_layers, gate_layers, layer_norm)
                                          for _ in range(directions))
            self.edge_update = (ScaleEdgeUpdate(dim, edge_dim, inv_layers, gate_layers, layer_norm)
                                if update_edges else None)
        else:
            self.messages = nn.ModuleList(PlainMessage(dim, edge_dim, layer_norm) for _ in range(directions))
            self.edge_update = PlainEdgeUpdate(dim, edge_dim, layer_norm) if update_edges else None
        self.update = RowNet((1 + directions) * dim, dim, dim, 1, inv_layers, scaled, layer_norm)

    def message(self, h: Tensor, e: Tensor, graph: EdgeGraph, backward: bool) -> tuple[Tensor, Tensor]:
        """``(m (E, d), receivers (E,))`` of one direction; backward messages use ``r(e)``."""
        senders, receivers, rows = graph.direction(backward)
        edge = self.reciprocal(e) if backward else e
        return self.messages[int(backward)](h, edge, senders, receivers, rows), receivers

    @staticmethod
    def aggregate(messages: Tensor, receivers: Tensor, num_nodes: int) -> Tensor:
        """``(N, d)``: the sum of each node's incoming messages."""
        out = messages.new_zeros(num_nodes, messages.shape[1])
        return out.index_add_(0, receivers, messages)

    def forward(self, h: Tensor, e: Tensor, graph: EdgeGraph) -> tuple[Tensor, Tensor]:
        aggregated = [self.aggregate(*self.message(h, e, graph, backward=r == 1), graph.num_nodes)
                      for r in range(len(self.messages))]
        new_h = self.update(torch.cat([h] + aggregated, dim=-1), graph.nodes)
        if self.residual:
            new_h = h + new_h
        if self.edge_update is None:
            return new_h, e
        new_e = self.edge_update(new_h, e, graph)
        return new_h, (e + new_e) if self.edge_residual else new_e
