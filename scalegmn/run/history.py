"""Per-epoch history of a training run, written through DVCLive into ``<run_dir>/dvclive/``.

Files (DVCLive's layout): ``plots/metrics/train/loss.tsv``, ``plots/metrics/lr.tsv`` and
``plots/metrics/val/<metric>.tsv``, each with columns ``step`` (the epoch, 1-based) and the metric's name,
one row per epoch; ``metrics.json``, the summary: the latest value of each metric (left out while it is not
finite), ``step`` (the last epoch) and, once the run has finished, ``test`` (test metrics at the best validation
epoch) and ``best_epoch``.
No timestamps are logged, so the files are a deterministic function of the run's numbers.

The trainer keeps the same rows in its checkpoint and rewrites this directory from them whenever it starts
(:class:`HistoryLog`), so a run resumed after a kill ends with exactly the files of an uninterrupted one.

A history row (checkpoint, :func:`read_history`) has ``epoch``, ``train_loss``, ``lr`` and ``val_<metric>``
columns: a column ``<split>_<name>`` with split ``train`` or ``val`` is the DVCLive metric ``<split>/<name>``,
any other column (``lr``) keeps its name.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
from dvclive import Live

DVCLIVE_DIR = "dvclive"
HISTORY_FILE = f"{DVCLIVE_DIR}/metrics.json"  # the summary, relative to the run directory
METRICS_DIR = Path(DVCLIVE_DIR, "plots", "metrics")
SPLITS = ("train", "val")  # column prefixes that are DVCLive metric folders


def metric_name(column: str) -> str:
    """History column → DVCLive metric name (``train_loss`` → ``train/loss``, ``lr`` → ``lr``)."""
    split, sep, name = column.partition("_")
    return f"{split}/{name}" if sep and split in SPLITS else column


def column_name(metric: str) -> str:
    """DVCLive metric name → history column (the inverse of :func:`metric_name`)."""
    split, sep, name = metric.partition("/")
    return f"{split}_{name}" if sep and split in SPLITS else metric


class _FilesOnlyLive(Live):
    """``dvclive.Live`` that only writes files under its directory. The plain one opens the DVC repository
    around the working directory (and runs ``dvc init`` in a Git repository without one) and may post to
    DVC Studio; a run needs neither: it saves no experiment and writes no ``dvc.yaml``, inside a DVC stage
    or not."""

    def _init_dvc(self) -> None:
        """No DVC repository, no Git."""

    def _init_studio(self) -> None:
        """No DVC Studio."""


class HistoryLog:
    """The DVCLive directory of one run: ``HistoryLog(run_dir, rows)`` deletes ``<run_dir>/dvclive/`` and
    writes ``rows`` (the history so far, e.g. from a checkpoint) again; :meth:`log_epoch` appends an epoch and
    :meth:`finish` adds the final test metrics to the summary."""

    def __init__(self, run_dir: str | Path, rows: list[dict[str, Any]]) -> None:
        directory = Path(run_dir) / DVCLIVE_DIR
        shutil.rmtree(directory, ignore_errors=True)
        self.live = _FilesOnlyLive(str(directory), report=None, save_dvc_exp=False, dvcyaml=None)
        for row in rows:
            self.log_epoch(row)

    def log_epoch(self, row: dict[str, Any]) -> None:
        """One history row (``epoch`` plus float columns) as step ``epoch``; rewrites ``metrics.json``. A
        non-finite value is written to its metric file (as ``nan``/``inf``) but never to the summary."""
        self.live.step = int(row["epoch"])
        for column, value in row.items():
            if column == "epoch":
                continue
            self.live.log_metric(metric_name(column), value)
            if not math.isfinite(value):
                *parents, key = metric_name(column).split("/")
                node = self.live.summary
                for part in parents:
                    node = node[part]
                del node[key]
        self.live.make_summary()

    def finish(self, test: dict[str, float], best_epoch: int) -> None:
        """Test metrics and the best epoch into ``metrics.json`` (the trainer has checked they are finite)."""
        self.live.summary.update(test=dict(test), best_epoch=best_epoch)
        self.live.make_summary()


def read_history(run_dir: str | Path) -> pd.DataFrame:
    """The history of a run directory: one row per epoch, columns ``epoch``, ``train_loss``, ``lr``,
    ``val_<metric>``, ... (floats as written; ``ValueError`` naming the folder if it has none)."""
    folder = Path(run_dir) / METRICS_DIR
    files = sorted(folder.rglob("*.tsv"))
    if not files:
        raise ValueError(f"{folder}: no training history (DVCLive metric files)")
    columns: dict[str, pd.Series] = {}
    for path in files:
        metric = path.relative_to(folder).with_suffix("").as_posix()
        try:
            frame = pd.read_csv(path, sep="\t")
            columns[column_name(metric)] = frame.set_index("step")[path.stem]
        except (OSError, KeyError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
            raise ValueError(f"{path}: unreadable training history ({err})") from None
    order = sorted(columns, key=lambda c: (c.partition("_")[0] != "train", c.partition("_")[0] == "val", c))
    history = pd.DataFrame({c: columns[c] for c in order}).rename_axis("epoch").reset_index()
    return history.astype({"epoch": "int64"})
