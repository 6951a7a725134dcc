"""A numerically stable reciprocal for vectors that scale by a positive factor."""

from __future__ import annotations

from torch import Tensor


def stable_reciprocal(v: Tensor, eps: float = 1e-8) -> Tensor:
    """``v / max(‖v‖², eps)`` along the last axis.

    For ``‖v‖² >= eps`` this is exactly ``v / ‖v‖²``, which scales by ``1/c`` when ``v`` scales by ``c``
    (any real ``c != 0``, so it serves sign groups too). Below that it is the bounded ``v / eps``: zero
    at zero, never larger than ``1/sqrt(eps)``, with finite gradients (no inf/NaN for near-zero weights).
    """
    sq = (v * v).sum(dim=-1, keepdim=True)
    return v / sq.clamp_min(eps)
