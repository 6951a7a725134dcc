"""Evaluation metrics of the tasks (DESIGN §8): Kendall τ, R², MSE, accuracy.

Every function takes whole-split arrays and returns plain ``float`` values (NaN only where undefined:
constant targets, an empty split).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import kendalltau


def _as_array(values) -> np.ndarray:
    return np.asarray(values, dtype=np.float64).reshape(-1)


def kendall_tau(true, pred) -> float:
    """Kendall rank correlation (τ-b) between targets and predictions: 0 for a constant prediction (it
    ranks nothing), NaN for constant targets or fewer than two values (undefined)."""
    t, p = _as_array(true), _as_array(pred)
    if len(t) < 2 or np.ptp(t) == 0:
        return math.nan
    if np.ptp(p) == 0:
        return 0.0
    return float(kendalltau(t, p).statistic)


def mse(true, pred) -> float:
    """Mean squared error over all elements."""
    t, p = _as_array(true), _as_array(pred)
    return float(np.mean((t - p) ** 2))


def r2(true, pred) -> float:
    """Coefficient of determination ``1 - SSE/SST``; NaN if the targets are constant."""
    t, p = _as_array(true), _as_array(pred)
    sst = float(np.sum((t - t.mean()) ** 2))
    if sst == 0.0:
        return math.nan
    return 1.0 - float(np.sum((t - p) ** 2)) / sst


def regression_metrics(true, pred) -> dict[str, float]:
    """``kendall_tau``, ``r2`` and ``mse`` of a generalization-prediction run."""
    return {"kendall_tau": kendall_tau(true, pred), "r2": r2(true, pred), "mse": mse(true, pred)}


def accuracy(labels, predicted) -> float:
    """Fraction of exact matches between integer labels and predicted classes."""
    t, p = np.asarray(labels).reshape(-1), np.asarray(predicted).reshape(-1)
    if len(t) == 0:
        return math.nan
    return float(np.mean(t == p))


def is_better(value: float, best: float | None, maximize: bool) -> bool:
    """Whether ``value`` improves on ``best`` (NaN never improves; anything beats ``None``/NaN)."""
    if math.isnan(value):
        return False
    if best is None or math.isnan(best):
        return True
    return value > best if maximize else value < best
