"""Per-run artefacts of the training runs: ``predictions.csv`` and ``edit_examples.npz``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

PREDICTIONS_FILE = "predictions.csv"
EDIT_EXAMPLES_FILE = "edit_examples.npz"


def _read_csv(path: Path, what: str) -> pd.DataFrame:
    try:
        return pd.read_csv(path)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: unreadable {what} ({err})") from None


def read_predictions(path: str | Path) -> pd.DataFrame:
    """``predictions.csv`` with columns ``id, true, pred`` (one row per test network)."""
    path = Path(path)
    frame = _read_csv(path, "predictions file")
    missing = {"true", "pred"} - set(frame.columns)
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(sorted(missing))}; expected id, true, pred")
    if "id" not in frame.columns:
        frame.insert(0, "id", range(len(frame)))
    try:
        return frame.astype({"true": "float64", "pred": "float64"})[["id", "true", "pred"]]
    except ValueError as err:
        raise ValueError(f"{path}: non-numeric true/pred ({err})") from None


def confusion_matrix(frame: pd.DataFrame, where: str | Path) -> np.ndarray:
    """Counts ``(k, k)``: entry ``[i, j]`` = rows of true class ``i`` predicted as ``j`` (integer labels ≥ 0)."""
    true, pred = (frame[c].round().astype("int64").to_numpy() for c in ("true", "pred"))
    if len(true) == 0 or min(true.min(), pred.min()) < 0:
        raise ValueError(f"{where}: expected non-negative integer class labels in true/pred")
    k = int(max(true.max(), pred.max())) + 1
    matrix = np.zeros((k, k), dtype=np.int64)
    np.add.at(matrix, (true, pred), 1)
    return matrix


@dataclass
class EditExamples:
    """Rendered images of edited INRs, each ``(n, H, W)``."""

    original: np.ndarray
    edited: np.ndarray
    target: np.ndarray


def read_edit_examples(path: str | Path) -> EditExamples:
    """``edit_examples.npz`` with arrays ``original``, ``edited``, ``target`` of one shape ``(n, H, W)``
    (a trailing channel axis ``(n, H, W, C)`` is accepted too)."""
    path = Path(path)
    try:
        with np.load(path) as data:
            arrays = {k: np.asarray(data[k], dtype=np.float64) for k in ("original", "edited", "target")}
    except KeyError as err:
        raise ValueError(f"{path}: missing array {err}; expected original, edited, target") from None
    except (OSError, ValueError) as err:
        raise ValueError(f"{path}: unreadable edit examples ({err})") from None
    shapes = {k: a.shape for k, a in arrays.items()}
    if len(set(shapes.values())) != 1 or arrays["original"].ndim not in (3, 4):
        raise ValueError(f"{path}: expected three arrays of one shape (n, H, W), got {shapes}")
    return EditExamples(**arrays)
