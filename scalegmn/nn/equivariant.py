"""ScaleEq: a bias-free linear map gated elementwise by an invariant vector (DESIGN §6)."""

from __future__ import annotations

from torch import Tensor, nn

from scalegmn.nn.invariant import InvariantHead, row_scale


class ScaleEq(nn.Module):
    """``ScaleEq(x) = (Γ x) ⊙ ScaleInv(x)``: ``(R, in_dim) -> (R, out_dim)``; scales like ``x`` per row.

    ``Γ`` and ScaleInv's first (bias-free) projection are one matmul ``x @ [Γ; W]ᵀ``; the projection is
    canonicalized afterwards (``W (x s) = (W x) s`` for the per-row factor ``s``).
    """

    def __init__(self, in_dim: int, out_dim: int, hidden: int, inv_layers: int = 1, eps: float = 1e-12,
                 layer_norm: bool = False) -> None:
        super().__init__()
        self.out_dim = out_dim
        self.proj = nn.Linear(in_dim, out_dim + hidden, bias=False)
        self.inv = InvariantHead(in_dim, hidden, out_dim, inv_layers, layer_norm)
        self.eps = eps

    def forward(self, x: Tensor, mode: Tensor) -> Tensor:
        gx, z = self.proj(x).split([self.out_dim, self.proj.out_features - self.out_dim], dim=-1)
        return gx * self.inv(z * row_scale(x, mode, self.eps), mode)
