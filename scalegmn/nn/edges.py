"""Sparse edge operators: messages ``Σ_j Σ_k w_ijk (D_k ⊙ z_j)`` without per-edge ``d``-dimensional tensors.

An edge ``j -> i`` carries a ``K``-vector ``w_ij`` (a weight or a flattened kernel) that scales by
``q_i / q_j``. ScaleGMN's edge states are kept factorized, ``e_ij = Σ_k w_ijk D_k ⊙ α_i ⊙ β_j``
(``D`` a learned ``K x d`` map, ``α``, ``β`` invariant gates of the endpoints), so the aggregate
``Σ_j e_ij ⊙ z_j = Σ_k D_k ⊙ (W_k z)`` is ``K`` sparse ``(N, N) @ (N, d)`` products with the weight
matrices ``W_k`` (one per kernel position): the per-edge cost is ``K*d`` multiply-adds inside the sparse
kernel, and nothing larger than ``N x d`` is materialised.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch
from torch import Tensor


def _sparse_csr(crow: Tensor, cols: Tensor, values: Tensor, n: int) -> Tensor:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(crow, cols, values, (n, n), check_invariants=False)


def csr_matrices(rows: Tensor, cols: Tensor, values: Tensor, num_nodes: int) -> list[Tensor]:
    """``K`` CSR ``(N, N)`` matrices sharing one sparsity pattern: entry ``(rows_e, cols_e)`` of matrix ``k``
    is ``values[e, k]``. Edges are sorted once with a stable sort (much faster than ``argsort`` on CPU)."""
    perm = torch.sort(rows * num_nodes + cols, stable=True).indices
    crow = torch.zeros(num_nodes + 1, dtype=torch.long, device=rows.device)
    torch.cumsum(torch.bincount(rows, minlength=num_nodes), 0, out=crow[1:])
    col = cols[perm]
    vals = values[perm].T.contiguous()
    return [_sparse_csr(crow, col, vals[k], num_nodes) for k in range(values.shape[1])]


@dataclass
class EdgeOperator:
    """``matrices[k]`` ``(N, N)``: entry ``(i, j)`` = ``w_ijk`` for each edge ``j -> i`` of the operator's
    direction; ``transposed[k]`` its transpose (for the backward pass)."""

    matrices: list[Tensor]
    transposed: list[Tensor]

    @property
    def width(self) -> int:
        return len(self.matrices)

    @classmethod
    def build(cls, receivers: Tensor, senders: Tensor, values: Tensor, num_nodes: int) -> "EdgeOperator":
        return cls(csr_matrices(receivers, senders, values, num_nodes),
                   csr_matrices(senders, receivers, values, num_nodes))


class _Aggregate(torch.autograd.Function):
    """``out = Σ_k table[k] ⊙ (W_k @ z)``; no gradient to the sparse values (the input weights)."""

    @staticmethod
    def forward(ctx, z: Tensor, table: Tensor, op: EdgeOperator) -> Tensor:  # type: ignore[override]
        ctx.save_for_backward(z, table)
        ctx.op = op
        out = torch.zeros_like(z)
        for k, matrix in enumerate(op.matrices):
            torch.addmm(out, matrix.to(z.dtype), z * table[k], out=out)
        return out

    @staticmethod
    def backward(ctx, grad: Tensor):  # type: ignore[override]
        z, table = ctx.saved_tensors
        grad = grad.contiguous()
        grad_z = torch.zeros_like(z)
        grad_table = torch.empty_like(table)
        for k, matrix_t in enumerate(ctx.op.transposed):
            back = matrix_t.to(z.dtype) @ grad
            grad_z.addcmul_(back, table[k])
            grad_table[k] = (back * z).sum(0)
        return grad_z, grad_table, None


def aggregate(op: EdgeOperator, z: Tensor, table: Tensor) -> Tensor:
    """``(N, d)``: ``out_i = Σ_{j->i} Σ_k w_ijk table[k] ⊙ z_j`` with ``table`` ``(>=K, d)``.

    ``z`` scales like the senders, so ``out`` scales like the receivers.
    """
    return _Aggregate.apply(z, table[: op.width], op)


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
