"""Norms that cannot overflow: scale by the largest entry before squaring when needed."""

from __future__ import annotations

import torch
from torch import Tensor, nn


def safe_norm(x: Tensor) -> Tensor:
    """``(..., 1)`` Euclidean norm of ``x`` ``(..., d)`` along the last axis, finite for any finite ``x``.

    The plain norm is used where it is finite; if any row overflows (weights of ``1e30`` in float32 square
    to infinity), every norm is recomputed as ``m ‖x / m‖`` with ``m = max |x_k|``, whose squares are at
    most ``d``. Zero rows give zero. (Underflow needs no care: every user clamps small norms from below.)
    """
    norm = torch.linalg.vector_norm(x, dim=-1, keepdim=True)
    if bool(torch.isfinite(norm).all()) or not bool(torch.isfinite(x).all()):
        return norm
    m = x.detach().abs().amax(dim=-1, keepdim=True)
    scale = torch.where(m > 0, m, torch.ones_like(m))
    return scale * torch.linalg.vector_norm(x / scale, dim=-1, keepdim=True)


class SafeLayerNorm(nn.LayerNorm):
    """``nn.LayerNorm`` that cannot overflow: rows whose entries exceed ``1e15`` (their variance would
    overflow float32 from about ``1e19``) are divided by ``max |x| / 1e15`` first. LayerNorm is invariant
    to that rescaling up to its ``eps``, which is negligible at such magnitudes; other rows are untouched."""

    LIMIT = 1e15

    def forward(self, x: Tensor) -> Tensor:
        if x.numel() and bool(torch.stack(torch.aminmax(x.detach())).abs().max() > self.LIMIT):
            x = x / (x.detach().abs().amax(dim=-1, keepdim=True) / self.LIMIT).clamp_min(1.0)
        return super().forward(x)
