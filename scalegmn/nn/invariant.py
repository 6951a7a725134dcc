"""ScaleInv: features invariant to the per-row scaling group, followed by an MLP (DESIGN §6)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from scalegmn.nn.modes import POSITIVE, SIGN
from scalegmn.nn.norms import SafeLayerNorm, safe_norm


def mlp(in_dim: int, hidden: int, out_dim: int, layers: int, layer_norm: bool = False,
        activation: type[nn.Module] = nn.SiLU) -> nn.Sequential:
    """``layers`` linear layers (with biases) and ``activation`` (SiLU) between them, each after a LayerNorm
    if ``layer_norm``."""
    if layers < 1:
        raise ValueError(f"an MLP needs at least one layer, got {layers}")
    dims = [in_dim] + [hidden] * (layers - 1) + [out_dim]
    mods: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(dims[:-1], dims[1:])):
        if i > 0:
            if layer_norm:
                mods.append(SafeLayerNorm(a))
            mods.append(activation())
        mods.append(nn.Linear(a, b))
    return nn.Sequential(*mods)


def row_scale(x: Tensor, mode: Tensor, eps: float = 1e-12) -> Tensor:
    """``(R, 1)`` factor that makes each row of ``x`` ``(R, d)`` canonical for its group.

    POSITIVE rows: ``1 / max(‖x‖, eps)`` (``x / ‖x‖`` is invariant to ``q > 0``); SIGN and PLAIN rows:
    ``1 / (1 + ‖x‖)`` (sign invariant, and keeps the features bounded while they still see the magnitude:
    on tanh zoos a unit-norm SIGN canonicalization measured 0.08 Kendall τ worse). The norm cannot
    overflow.
    """
    norm = safe_norm(x)
    positive = (mode == POSITIVE).unsqueeze(-1)
    return torch.where(positive, norm.clamp_min(eps), 1.0 + norm).reciprocal()


class InvariantHead(nn.Module):
    """``(R, hidden) -> (R, out_dim)``: ``ρ(z) = silu(LN(z + b))`` of a canonicalized projection ``z`` (the
    LayerNorm ``LN`` if ``layer_norm``), made invariant on SIGN rows by symmetrization ``ρ(z) + ρ(-z)``,
    then an MLP of ``layers`` linear layers (``layers=0``: ``ρ`` itself, which needs ``hidden == out_dim``)."""

    def __init__(self, in_dim: int, hidden: int, out_dim: int, layers: int, layer_norm: bool = False) -> None:
        super().__init__()
        if layers == 0 and hidden != out_dim:
            raise ValueError(f"an invariant head without MLP layers needs hidden == out_dim, got {hidden}, {out_dim}")
        self.bias = nn.Parameter(torch.empty(hidden).uniform_(-in_dim**-0.5, in_dim**-0.5))
        self.norm = SafeLayerNorm(hidden) if layer_norm else nn.Identity()
        self.mlp = mlp(hidden, hidden, out_dim, layers, layer_norm) if layers else nn.Identity()

    def forward(self, z: Tensor, mode: Tensor) -> Tensor:
        h = nn.functional.silu(self.norm(z + self.bias))
        sign = (mode == SIGN).unsqueeze(-1)
        if bool(sign.any()):
            h = h + sign * nn.functional.silu(self.norm(self.bias - z))
        return self.mlp(h)


class ScaleInv(nn.Module):
    """``(R, in_dim) -> (R, out_dim)``, invariant per row to the row's group (``mode``, see :mod:`modes`).

    ``InvariantHead(W (x * row_scale(x)))``: POSITIVE rows canonicalize ``x / ‖x‖``; SIGN rows canonicalize
    the norm and symmetrize the direction; PLAIN rows see ``x / (1 + ‖x‖)``, which keeps the output
    bounded, so ``ScaleEq`` grows at most linearly.
    """

    def __init__(self, in_dim: int, hidden: int, out_dim: int, layers: int = 1, eps: float = 1e-12,
                 layer_norm: bool = False) -> None:
        super().__init__()
        self.first = nn.Linear(in_dim, hidden, bias=False)
        self.head = InvariantHead(in_dim, hidden, out_dim, layers, layer_norm)
        self.eps = eps

    def forward(self, x: Tensor, mode: Tensor) -> Tensor:
        return self.head(self.first(x) * row_scale(x, mode, self.eps), mode)
