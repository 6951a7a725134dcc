"""Invariant readouts (output-node MLP, DeepSets) and the equivariant head."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from scalegmn.nn.invariant import ScaleInv, mlp
from scalegmn.nn.modes import PLAIN, graph_vector


def _num_graphs(data) -> int:
    return int(getattr(data, "num_graphs", 1) or 1)


def io_states(h: Tensor, data, n: int, which: str = "output") -> Tensor:
    """``(B, n * d)``: the ``output`` (or ``input``) neurons' states per graph (invariant: I/O neurons are
    never scaled or permuted)."""
    b = _num_graphs(data)
    out = h[data.output_mask if which == "output" else data.input_mask]
    if out.shape[0] != b * n:
        raise ValueError(f"every network must have {n} {which}s; the batch has {out.shape[0]} {which} "
                         f"neurons for {b} networks")
    return out.reshape(b, n * h.shape[1])


class InvariantReadout(nn.Module):
    """``(N, d) -> (B, out_dim)``.

    ``"output"``: an MLP on the concatenated output-node states and their positional embeddings ``pos``
    ``(N, d)`` (invariant: output neurons are never scaled or permuted). ``"deepsets"``: the input- and
    output-node states and the mean over each graph's hidden nodes of ``ScaleInv(h_i)`` (invariant to
    scaling and permutation).
    """

    def __init__(self, kind: str, dim: int, n_in: int, n_out: int, out_dim: int, layers: int,
                 inv_layers: int, layer_norm: bool = False) -> None:
        super().__init__()
        if kind not in ("output", "deepsets"):
            raise ValueError(f"unknown readout {kind!r}; expected 'output' or 'deepsets'")
        self.kind, self.n_in, self.n_out = kind, n_in, n_out
        self.phi = ScaleInv(dim, dim, dim, inv_layers, layer_norm=layer_norm) if kind == "deepsets" else None
        in_dim = 2 * n_out * dim if kind == "output" else (n_in + n_out + 1) * dim
        self.mlp = mlp(in_dim, dim, out_dim, layers, layer_norm)

    def forward(self, h: Tensor, mode: Tensor, data, pos: Tensor) -> Tensor:
        feats = [io_states(h, data, self.n_out)]
        if self.phi is None:
            feats.append(io_states(pos, data, self.n_out))
        else:
            feats.append(io_states(h, data, self.n_in, "input"))
            b = _num_graphs(data)
            hidden = data.hidden_mask
            idx = graph_vector(data)[hidden]
            inv = self.phi(h[hidden], mode[hidden])  # under autocast it may be of a lower precision than h
            pooled = inv.new_zeros(b, h.shape[1]).index_add_(0, idx, inv)
            count = torch.bincount(idx, minlength=b).clamp_min(1).unsqueeze(1).to(inv.dtype)
            feats.append(pooled / count)
        return self.mlp(torch.cat(feats, dim=-1))


class EdgeStateHead(nn.Module):
    """Per-edge models' equivariant head: ``(h (N, d), e (E, d)) -> (node_out (N, 1), edge_out (E, K))``.

    Bias-free linear maps of the final states: ``node_out_i = Γ_n h_i`` scales like a bias (zero on input
    nodes, which have none) and ``edge_out_ij = Γ_e e_ij`` like the weight ``w_ij``.
    """

    def __init__(self, dim: int, edge_dim: int) -> None:
        super().__init__()
        self.node = nn.Linear(dim, 1, bias=False)
        self.edge = nn.Linear(dim, edge_dim, bias=False)

    def forward(self, h: Tensor, e: Tensor, data) -> tuple[Tensor, Tensor]:
        return self.node(h) * (~data.input_mask).unsqueeze(-1).to(h.dtype), self.edge(e)


class EquivariantHead(nn.Module):
    """``(N, d) -> (node_out (N, 1), edge_out (E, K))`` transforming like biases and weights.

    ``node_out_i = Γ_n h_i`` (zero on input nodes, which have no bias). For an edge ``j -> i``,
    ``edge_out_ij = w_ij ⊙ (ρ_i ⊙ σ_j) M + ((Γ_a h_i) ⊙ r(Γ_b h_j)) N`` with ``ρ, σ`` invariant,
    ``r`` the stable reciprocal (scales by ``1/q_j``; identity on nodes without scaling symmetry): both
    terms scale by ``q_i / q_j``; ``layer_norm``: LayerNorm in ``ρ, σ``'s invariant head. Only this head
    materialises ``E x d`` tensors, once.
    """

    def __init__(self, dim: int, edge_dim: int, inv_layers: int, reciprocal, layer_norm: bool = False) -> None:
        super().__init__()
        self.node = nn.Linear(dim, 1, bias=False)
        self.inv = ScaleInv(dim, dim, 2 * dim, inv_layers, layer_norm=layer_norm)
        self.mix = nn.Linear(dim, edge_dim, bias=False)
        self.gamma = nn.Linear(dim, 2 * dim, bias=False)
        self.out = nn.Linear(dim, edge_dim, bias=False)
        self.reciprocal = reciprocal

    def forward(self, h: Tensor, mode: Tensor, data, edge_attr: Tensor) -> tuple[Tensor, Tensor]:
        src, dst = data.edge_index
        node_out = self.node(h) * (~data.input_mask).unsqueeze(-1).to(h.dtype)
        rho, sigma = (1.0 + self.inv(h, mode)).chunk(2, dim=-1)
        a, b = self.gamma(h).chunk(2, dim=-1)
        b = torch.where((mode == PLAIN).unsqueeze(-1), b, self.reciprocal(b))
        edge_out = (edge_attr * self.mix(rho.index_select(0, dst) * sigma.index_select(0, src))
                    + self.out(a.index_select(0, dst) * b.index_select(0, src)))
        return node_out, edge_out
