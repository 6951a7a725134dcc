"""ScaleEq: a bias-free linear map gated elementwise by an invariant vector (DESIGN §6)."""

from __future__ import annotations

from torch import Tensor, nn

from scalegmn.nn.invariant import ScaleInv


class ScaleEq(nn.Module):
    """``ScaleEq(x) = (Γ x) ⊙ ScaleInv(x)``: ``(R, in_dim) -> (R, out_dim)``; scales like ``x`` per row."""

    def __init__(self, in_dim: int, out_dim: int, hidden: int, inv_layers: int = 1) -> None:
        super().__init__()
        self.gamma = nn.Linear(in_dim, out_dim, bias=False)
        self.inv = ScaleInv(in_dim, hidden, out_dim, inv_layers)

    def forward(self, x: Tensor, mode: Tensor) -> Tensor:
        return self.gamma(x) * self.inv(x, mode)
