"""Sparse edge operators: messages ``Σ_j Σ_k w_ijk (D_k ⊙ z_j)`` without per-edge ``d``-dimensional tensors.

An edge ``j -> i`` carries a ``K``-vector ``w_ij`` (a weight or a flattened kernel) that scales by
``q_i / q_j``. ScaleGMN's edge states are kept factorized, ``e_ij = Σ_k w_ijk D_k ⊙ α_i ⊙ β_j``
(``D`` a learned ``K x d`` map, ``α``, ``β`` invariant gates of the endpoints), so the
aggregate ``Σ_j e_ij ⊙ z_j`` is one sparse ``(N, N*K) @ (N*K, d)`` product: the per-edge cost is
``K*d`` multiply-adds inside the sparse kernel and nothing ``E x d`` is materialised.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch
from torch import Tensor


def _sparse_csr(crow: Tensor, cols: Tensor, values: Tensor, shape: tuple[int, int]) -> Tensor:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(crow, cols, values, shape, check_invariants=False)


def _crow(counts: Tensor) -> Tensor:
    crow = torch.zeros(counts.numel() + 1, dtype=torch.long, device=counts.device)
    torch.cumsum(counts, 0, out=crow[1:])
    return crow


def receiver_matrix(receivers: Tensor, senders: Tensor, values: Tensor, num_nodes: int) -> Tensor:
    """CSR ``(N, N*K)`` with entry ``(r_e, s_e*K + k) = values[e, k]`` (edges sorted once, ``O(E log E)``;
    the stable sort is used because it is far faster than ``argsort`` on CPU)."""
    e, k = values.shape
    perm = torch.sort(receivers * num_nodes + senders, stable=True).indices
    cols = (senders[perm].unsqueeze(1) * k + torch.arange(k, device=senders.device)).reshape(-1)
    counts = torch.bincount(receivers, minlength=num_nodes) * k
    return _sparse_csr(_crow(counts), cols, values[perm].reshape(-1), (num_nodes, num_nodes * k))


def sender_matrix(receivers: Tensor, senders: Tensor, values: Tensor, num_nodes: int) -> Tensor:
    """CSR ``(N*K, N)`` with entry ``(s_e*K + k, r_e) = values[e, k]``: the transpose of :func:`receiver_matrix`."""
    e, k = values.shape
    perm = torch.sort(senders * num_nodes + receivers, stable=True).indices
    s = senders[perm]
    counts = torch.bincount(senders, minlength=num_nodes)
    start = _crow(counts)[:-1]
    kk = torch.arange(k, device=senders.device)
    offset = torch.arange(e, device=senders.device) - start[s]
    pos = (start[s] * k + offset).unsqueeze(1) + kk * counts[s].unsqueeze(1)
    cols = torch.empty(e * k, dtype=torch.long, device=senders.device)
    cols[pos.reshape(-1)] = receivers[perm].unsqueeze(1).expand(e, k).reshape(-1)
    vals = torch.empty(e * k, dtype=values.dtype, device=values.device)
    vals[pos.reshape(-1)] = values[perm].reshape(-1)
    return _sparse_csr(_crow(counts.repeat_interleave(k)), cols, vals, (num_nodes * k, num_nodes))


@dataclass
class EdgeOperator:
    """``matrix`` ``(N, N*K)``: entry ``(i, j*K + k)`` = ``w_ijk`` for each edge ``j -> i`` of the
    operator's direction; ``matrix_t`` its transpose (for the backward pass)."""

    matrix: Tensor
    matrix_t: Tensor
    width: int

    @classmethod
    def build(cls, receivers: Tensor, senders: Tensor, values: Tensor, num_nodes: int) -> "EdgeOperator":
        return cls(
            matrix=receiver_matrix(receivers, senders, values, num_nodes),
            matrix_t=sender_matrix(receivers, senders, values, num_nodes),
            width=values.shape[1],
        )


class _SparseProduct(torch.autograd.Function):
    """``matrix @ y`` with the gradient ``matrix_t @ grad`` (no gradient to the sparse values)."""

    @staticmethod
    def forward(ctx, y: Tensor, matrix: Tensor, matrix_t: Tensor) -> Tensor:  # type: ignore[override]
        ctx.matrix_t = matrix_t
        return matrix @ y

    @staticmethod
    def backward(ctx, grad: Tensor):  # type: ignore[override]
        return ctx.matrix_t @ grad.contiguous(), None, None


def aggregate(op: EdgeOperator, z: Tensor, table: Tensor) -> Tensor:
    """``(N, d)``: ``out_i = Σ_{j->i} Σ_k w_ijk table[k] ⊙ z_j`` with ``table`` ``(K, d)``.

    ``z`` scales like the senders, so ``out`` scales like the receivers.
    """
    n, d = z.shape
    y = z.unsqueeze(1) * table[: op.width]
    return _SparseProduct.apply(y.reshape(n * op.width, d), op.matrix.to(z.dtype), op.matrix_t.to(z.dtype))


def edge_operators(data, edge_attr: Tensor, reciprocal, bidirectional: bool) -> list[EdgeOperator]:
    """The forward operator (``j -> i`` along each weight) and, if ``bidirectional``, the backward one
    (``i -> j`` carrying ``reciprocal(w_ij)``, which scales by ``q_j / q_i``)."""
    src, dst = data.edge_index
    n = data.num_nodes
    attr = edge_attr.detach()
    ops = [EdgeOperator.build(dst, src, attr, n)]
    if bidirectional:
        ops.append(EdgeOperator.build(src, dst, reciprocal(attr), n))
    return ops
