"""What a model zoo holds, for the report: per network its activation, test accuracy and fitting PSNR."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from scalegmn.zoo import load_networks, zoo_info


def _zoo_name(path: Path) -> str:
    try:
        return str(zoo_info(path).get("name") or path.name)
    except ValueError:
        return path.name


def _number(value: object) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan


@dataclass
class ZooStats:
    """One row per network: ``id``, ``activation``, ``hidden`` (its hidden widths, e.g. ``"8-8"``), ``label``,
    ``score`` (test accuracy), ``psnr`` (NaN if absent)."""

    name: str
    path: Path
    networks: pd.DataFrame

    @property
    def size(self) -> int:
        return len(self.networks)

    def values(self, column: str) -> pd.DataFrame:
        """Rows with a finite ``column``."""
        return self.networks[np.isfinite(self.networks[column])]


def zoo_stats(path: str | Path) -> ZooStats:
    """Stream a zoo directory (any format :func:`scalegmn.zoo.load_networks` reads) and keep its metadata."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"{path}: zoo directory not found")
    rows = []
    for i, net in enumerate(tqdm(load_networks(path), desc=f"reading zoo {path.name}", unit=" nets", leave=False)):
        meta = net.meta
        rows.append({"id": str(meta.get("id", i)), "activation": net.activation,
                     "hidden": "-".join(map(str, net.layer_sizes[1:-1])),
                     "label": meta.get("label"), "score": _number(meta.get("score")),
                     "psnr": _number(meta.get("psnr"))})
    columns = ["id", "activation", "hidden", "label", "score", "psnr"]
    return ZooStats(_zoo_name(path), path, pd.DataFrame.from_records(rows, columns=columns))


def histogram_frame(values: np.ndarray, bins: int, column: str) -> pd.DataFrame:
    """Binned counts as ``<column>`` (bin centre), ``lower``, ``upper``, ``count`` — data for ``dvc plots``."""
    counts, edges = np.histogram(np.asarray(values, dtype=np.float64), bins=bins)
    return pd.DataFrame({column: (edges[:-1] + edges[1:]) / 2, "lower": edges[:-1], "upper": edges[1:],
                         "count": counts})
