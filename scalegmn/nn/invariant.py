"""ScaleInv: features invariant to the per-row scaling group, followed by an MLP (DESIGN §6)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from scalegmn.nn.modes import POSITIVE, SIGN


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


class ScaleInv(nn.Module):
    """``(R, in_dim) -> (R, out_dim)``, invariant per row to the row's group (``mode``, see :mod:`modes`).

    A first layer ``ρ(x) = silu(W x + b)`` is made invariant per row: POSITIVE rows canonicalize,
    ``ρ(x / max(‖x‖, eps))``; SIGN rows symmetrize, ``ρ(x̃) + ρ(-x̃)``; PLAIN rows use ``ρ(x̃)``, where
    ``x̃ = x / (1 + ‖x‖)`` (sign invariant factor) keeps the output bounded, so ``ScaleEq`` grows at most
    linearly. An MLP of ``layers`` linear layers follows.
    """

    def __init__(self, in_dim: int, hidden: int, out_dim: int, layers: int = 1, eps: float = 1e-12) -> None:
        super().__init__()
        self.first = nn.Linear(in_dim, hidden, bias=False)
        self.first_bias = nn.Parameter(torch.empty(hidden).uniform_(-in_dim**-0.5, in_dim**-0.5))
        self.mlp = mlp(hidden, hidden, out_dim, layers)
        self.eps = eps

    def forward(self, x: Tensor, mode: Tensor) -> Tensor:
        norm = x.norm(dim=-1, keepdim=True)
        positive = (mode == POSITIVE).unsqueeze(-1)
        x = x * torch.where(positive, norm.clamp_min(self.eps), 1.0 + norm).reciprocal()
        z = self.first(x)
        h = nn.functional.silu(z + self.first_bias)
        sign = (mode == SIGN).unsqueeze(-1)
        if bool(sign.any()):
            h = h + sign * nn.functional.silu(self.first_bias - z)
        return self.mlp(h)
