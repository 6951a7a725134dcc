"""A numerically stable reciprocal for vectors that scale by a positive factor."""

from __future__ import annotations

from torch import Tensor

from scalegmn.nn.norms import safe_norm


def stable_reciprocal(v: Tensor, eps: float = 1e-8) -> Tensor:
    """``v / max(‖v‖², eps)`` along the last axis, computed as ``(v / n) / n`` with ``n = max(‖v‖, √eps)``.

    For ``‖v‖² >= eps`` this is exactly ``v / ‖v‖²``, which scales by ``1/c`` when ``v`` scales by ``c``
    (any real ``c != 0``, so it serves sign groups too). Below that it is the bounded ``v / eps``: zero
    at zero, never larger than ``1/sqrt(eps)``, with finite gradients (no inf/NaN for near-zero weights).
    The norm never squares ``v`` unscaled, so huge vectors (``1e30`` in float32) give tiny finite results.
    """
    n = safe_norm(v).clamp_min(eps**0.5)
    return v / n / n
