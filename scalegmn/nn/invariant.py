"""ScaleInv: features invariant to the per-row scaling group, followed by an MLP (DESIGN §6)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from scalegmn.nn.modes import POSITIVE, SIGN
from scalegmn.nn.norms import safe_norm


def mlp(in_dim: int, hidden: int, out_dim: int, layers: int) -> nn.Sequential:
    """``layers`` linear layers (with biases) and SiLU between them."""
    if layers < 1:
        raise ValueError(f"an MLP needs at least one layer, got {layers}")
    dims = [in_dim] + [hidden] * (layers - 1) + [out_dim]
    mods: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(dims[:-1], dims[1:])):
        if i > 0:
            mods.append(nn.SiLU())
        mods.append(nn.Linear(a, b))
    return nn.Sequential(*mods)


def row_scale(x: Tensor, mode: Tensor, eps: float = 1e-12) -> Tensor:
    """``(R, 1)`` factor that makes each row of ``x`` ``(R, d)`` canonical for its group.

    POSITIVE and SIGN rows: ``1 / max(‖x‖, eps)`` (``x / ‖x‖`` is invariant to ``q > 0`` and maps ``±x``
    to ``±x̂``, which the symmetrization of :class:`InvariantHead` then makes sign invariant; unit-norm
    inputs keep the gate nonlinear however small the messages are). PLAIN rows: ``1 / (1 + ‖x‖)``
    (they keep their magnitude, bounded). The norm cannot overflow.
    """
    norm = safe_norm(x)
    positive = (mode == POSITIVE).unsqueeze(-1)
    return torch.where(positive, norm.clamp_min(eps), 1.0 + norm).reciprocal()


class InvariantHead(nn.Module):
    """``(R, hidden) -> (R, out_dim)``: ``ρ(z) = silu(z + b)`` of a canonicalized projection ``z``, made
    invariant on SIGN rows by symmetrization ``ρ(z) + ρ(-z)``, then an MLP of ``layers`` linear layers."""

    def __init__(self, in_dim: int, hidden: int, out_dim: int, layers: int) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.empty(hidden).uniform_(-in_dim**-0.5, in_dim**-0.5))
        self.mlp = mlp(hidden, hidden, out_dim, layers)

    def forward(self, z: Tensor, mode: Tensor) -> Tensor:
        h = nn.functional.silu(z + self.bias)
        sign = (mode == SIGN).unsqueeze(-1)
        if bool(sign.any()):
            h = h + sign * nn.functional.silu(self.bias - z)
        return self.mlp(h)


class ScaleInv(nn.Module):
    """``(R, in_dim) -> (R, out_dim)``, invariant per row to the row's group (``mode``, see :mod:`modes`).

    ``InvariantHead(W (x * row_scale(x)))``: POSITIVE rows canonicalize ``x / ‖x‖``; SIGN rows canonicalize
    the norm and symmetrize the direction; PLAIN rows see ``x / (1 + ‖x‖)``, which keeps the output
    bounded, so ``ScaleEq`` grows at most linearly.
    """

    def __init__(self, in_dim: int, hidden: int, out_dim: int, layers: int = 1, eps: float = 1e-12) -> None:
        super().__init__()
        self.first = nn.Linear(in_dim, hidden, bias=False)
        self.head = InvariantHead(in_dim, hidden, out_dim, layers)
        self.eps = eps

    def forward(self, x: Tensor, mode: Tensor) -> Tensor:
        return self.head(self.first(x) * row_scale(x, mode, self.eps), mode)
