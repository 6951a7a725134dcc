"""Summary statistics of a zoo's per-network values (accuracies, PSNRs)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def describe(values: Sequence[float]) -> dict[str, float]:
    """``count``, ``mean``, ``min``, quartiles ``q25``/``median``/``q75`` and ``max`` of ``values``."""
    if len(values) == 0:
        return {"count": 0}
    a = np.asarray(values, dtype=np.float64)
    q25, median, q75 = np.quantile(a, [0.25, 0.5, 0.75])
    return {"count": int(a.size), "mean": float(a.mean()), "min": float(a.min()), "q25": float(q25),
            "median": float(median), "q75": float(q75), "max": float(a.max())}


def format_description(stats: dict[str, float], digits: int = 3) -> str:
    """``min/q25/median/q75/max`` on one line (the generator summaries)."""
    if stats.get("count", 0) == 0:
        return "no values"
    keys = ("min", "q25", "median", "q75", "max")
    return "/".join(f"{stats[k]:.{digits}f}" for k in keys) + f" (mean {stats['mean']:.{digits}f})"
