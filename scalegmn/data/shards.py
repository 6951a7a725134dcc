"""Streaming writer of a graph dataset: a directory of Arrow IPC shards plus ``metadata.json``.

Rows are converted and written ``batch_rows`` at a time, so memory stays bounded whatever the number
of networks. The whole directory is written under a temporary name and renamed into place at the end,
and ``metadata.json`` (schema version, provenance, feature dims, split sizes, shard sizes and checksums)
is written last, so an interrupted write never leaves a directory that opens as a dataset.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import torch

from scalegmn.io import atomic_dir, file_sha256, write_json
from scalegmn.data.metadata import METADATA_FILE, DatasetStats, params_hash
from scalegmn.data.rows import arrow_schema, network_to_row, rows_to_batch
from scalegmn.core.weights import NetworkWeights

SHARD_PATTERN = "shard-{:05d}.arrow"
DATASET_KIND = "graph-dataset"  # the output kind of a dataset directory (scalegmn.io.atomic_dir)
BAD_WEIGHT_POLICIES: tuple[str, ...] = ("refuse", "drop", "keep")


@dataclass(frozen=True)
class ShardConfig:
    """Rows per shard file, rows per Arrow record batch (the unit of buffering), and what to do with a
    network whose weights are non-finite or larger in magnitude than ``max_abs_weight``: ``refuse`` (error
    naming it), ``drop`` (skip it with a warning; its id is listed in the metadata) or ``keep`` (write it;
    listed in the metadata as flagged)."""

    rows_per_shard: int = 4096
    batch_rows: int = 256
    bad_weights: str = "refuse"
    max_abs_weight: float = 1e6

    def __post_init__(self) -> None:
        if self.rows_per_shard < 1 or self.batch_rows < 1:
            raise ValueError(f"rows_per_shard and batch_rows must be >= 1, got {self}")
        if self.bad_weights not in BAD_WEIGHT_POLICIES:
            raise ValueError(f"bad_weights must be one of {', '.join(BAD_WEIGHT_POLICIES)}, got {self.bad_weights!r}")
        if not self.max_abs_weight > 0:
            raise ValueError(f"max_abs_weight must be > 0, got {self.max_abs_weight}")


def weight_problem(net: NetworkWeights, max_abs_weight: float) -> str | None:
    """What is wrong with ``net``'s numbers (non-finite, or beyond ``max_abs_weight``), or ``None``."""
    tensors = [*net.weights, *net.biases]
    if not all(bool(torch.isfinite(t).all()) for t in tensors):
        return "non-finite weights"
    largest = max(float(t.abs().max()) for t in tensors if t.numel())
    if largest > max_abs_weight:
        return f"a weight of magnitude {largest:.3g} (above max_abs_weight {max_abs_weight:g})"
    return None


class _ShardSink:
    """Appends record batches to numbered shard files, starting a new file every ``rows_per_shard`` rows."""

    def __init__(self, directory: Path, config: ShardConfig) -> None:
        self.directory = directory
        self.config = config
        self.schema: pa.Schema | None = None
        self.writer: pa.ipc.RecordBatchFileWriter | None = None
        self.rows_in_shard = 0
        self.shards: list[dict[str, Any]] = []

    def write(self, rows: list[dict[str, Any]], dtype: str) -> None:
        if self.schema is None:
            self.schema = arrow_schema(dtype)
        while rows:
            if self.writer is None:
                path = self.directory / SHARD_PATTERN.format(len(self.shards))
                self.writer = pa.ipc.new_file(str(path), self.schema)
                self.shards.append({"file": path.name, "rows": 0})
                self.rows_in_shard = 0
            take = min(len(rows), self.config.rows_per_shard - self.rows_in_shard)
            self.writer.write_batch(rows_to_batch(rows[:take], self.schema))
            rows = rows[take:]
            self.rows_in_shard += take
            self.shards[-1]["rows"] += take
            if self.rows_in_shard == self.config.rows_per_shard:
                self.close()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None
            path = self.directory / self.shards[-1]["file"]
            self.shards[-1].update(bytes=path.stat().st_size, sha256=file_sha256(path))


def write_dataset(
    path: str | Path,
    rows: Iterable[tuple[NetworkWeights, str]],
    *,
    source: dict[str, Any],
    params: dict[str, Any],
    config: ShardConfig = ShardConfig(),
    extra: dict[str, Any] | None = None,
    on_row: Callable[[], None] | None = None,
    overwrite: bool = False,
    inputs: Iterable[str | Path] = (),
) -> dict[str, Any]:
    """Write ``(network, split)`` pairs as a graph dataset at ``path``; returns the metadata.

    Args:
        source: provenance of the networks (e.g. the zoo path and its info), stored in the metadata.
        params: the knobs that produced the dataset; stored with their hash.
        extra: more metadata entries (e.g. split plan details).
        on_row: called after each network (progress bars).
        overwrite, inputs: see :func:`scalegmn.io.atomic_dir` (``path`` never replaces unrelated files).
    Every network needs a unique ``meta["id"]`` and all must share one float dtype (``ValueError`` otherwise).
    """
    start = time.perf_counter()
    stats = DatasetStats()
    with atomic_dir(path, DATASET_KIND, overwrite=overwrite, inputs=inputs) as tmp:
        tmp.mkdir()
        sink = _ShardSink(tmp, config)
        buffer: list[dict[str, Any]] = []
        seen: set[str] = set()
        flagged: list[str] = []
        for index, (net, split) in enumerate(rows):
            where = f"network {index} (id {net.meta.get('id')!r})"
            problem = weight_problem(net, config.max_abs_weight)
            if problem is not None:
                what = f"{source.get('path', path)}: {where} has {problem}"
                if config.bad_weights == "refuse":
                    raise ValueError(f"{what}; nothing was written (bad_weights: drop skips such networks)")
                flagged.append(str(net.meta.get("id")))
                if config.bad_weights == "drop":
                    warnings.warn(f"{what}; dropped", stacklevel=2)
                    continue
            if net.meta.get("id") is None:
                raise ValueError(f"{where}: no meta['id'] (every network of a dataset needs a unique id)")
            if str(net.meta["id"]) in seen:
                raise ValueError(f"{where}: duplicate id")
            seen.add(str(net.meta["id"]))
            stats.add(net, split, where)
            buffer.append(network_to_row(net, split, str(net.meta["id"])))
            if len(buffer) == config.batch_rows:
                sink.write(buffer, stats.dtype)
                buffer = []
            if on_row is not None:
                on_row()
        if buffer:
            sink.write(buffer, stats.dtype)
        sink.close()
        if stats.rows == 0:
            raise ValueError(f"{path}: no networks to write")
        metadata = {
            **stats.to_dict(),
            "source": source,
            "params": params,
            "params_hash": params_hash(params),
            **(extra or {}),
            "bad_weights": {"policy": config.bad_weights, "max_abs_weight": config.max_abs_weight, "ids": flagged},
            "shards": sink.shards,
            "write_seconds": round(time.perf_counter() - start, 3),
        }
        write_json(tmp / METADATA_FILE, metadata)
    return metadata
