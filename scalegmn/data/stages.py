"""The shard stage as a library function over directories (zoo in, graph dataset out).

It streams: networks are read part by part and written in bounded batches. It returns a
:class:`StageSummary` (counts, seconds, throughput) for the one-line report of the command. (Symmetry
augmentation is no stage: it is drawn on the fly by the training loader, see :mod:`scalegmn.data.loader`.)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

import scalegmn.zoo as zoo
from scalegmn.io import check_output_dir
from scalegmn.data.shards import DATASET_KIND, ShardConfig, write_dataset
from scalegmn.data.splits import SplitConfig, network_key, plan_splits
from scalegmn.core.weights import NetworkWeights


@dataclass(frozen=True)
class StageSummary:
    """What a stage did: its name, networks read and written, seconds, networks written per second, the
    output path and stage-specific ``details``; :attr:`line` is the one-line report."""

    stage: str
    read: int
    written: int
    seconds: float
    out: str
    details: dict[str, Any]

    @property
    def per_second(self) -> float:
        return self.written / max(self.seconds, 1e-9)

    @property
    def line(self) -> str:
        d = self.details
        sizes = d["split_sizes"]
        what = (f"{self.written} networks (train {sizes['train']}, val {sizes['val']}, test {sizes['test']}; "
                    f"{d['dropped_eval_copies']} copies of val/test networks dropped"
                + (f"; {d['bad_weights']} with bad weights ({d['bad_weights_policy']})" if d["bad_weights"] else "")
                + f") in {d['shards']} shards")
        return (f"{self.stage}: {what} -> {self.out} in {self.seconds:.1f} s "
                f"({self.per_second:.0f} networks/s)")


def open_zoo(path: str | Path) -> tuple[dict[str, Any], Callable[[], Iterator[NetworkWeights]]]:
    """The info of the zoo at ``path`` (any format :func:`scalegmn.zoo.load_networks` reads) and a function
    that streams its networks (callable repeatedly)."""
    return dict(zoo.zoo_info(path)), lambda: zoo.load_networks(path)


def _progress(nets: Iterator[NetworkWeights], total: int | None, desc: str) -> Iterator[NetworkWeights]:
    return tqdm(nets, total=total, desc=desc, unit="net", mininterval=1.0, leave=False)


def shard_zoo(
    source: str | Path,
    out: str | Path,
    splits: SplitConfig,
    shards: ShardConfig,
    params: dict[str, Any] | None = None,
    overwrite: bool = False,
) -> StageSummary:
    """Write zoo ``source`` as a graph dataset at ``out``: a first pass plans the splits by source network
    (see :mod:`scalegmn.data.splits`), a second writes the rows (copies of val/test networks dropped)."""
    start = time.perf_counter()
    check_output_dir(out, DATASET_KIND, overwrite=overwrite, inputs=[source])
    info, networks = open_zoo(source)
    first_pass = enumerate(_progress(networks(), info.get("size"), "plan splits"))
    plan = plan_splits((network_key(net, f"{source}: network {i}") for i, net in first_pass), splits)

    def rows() -> Iterator[tuple[NetworkWeights, str]]:
        for i, net in enumerate(_progress(networks(), info.get("size"), "shard")):
            split = plan.split_of(network_key(net, f"{source}: network {i}"))
            if split is not None:
                yield net, split

    knobs = {"splits": asdict(splits), "shards": asdict(shards), **(params or {})}
    metadata = write_dataset(
        out,
        rows(),
        source={"path": str(source), "info": info},
        params=knobs,
        config=shards,
        extra={"source_split_sizes": plan.sizes(), "dropped_eval_copies": len(plan.dropped)},
        overwrite=overwrite,
        inputs=[source],
    )
    bad = metadata["bad_weights"]["ids"]
    read = metadata["num_rows"] + len(plan.dropped) + (len(bad) if shards.bad_weights == "drop" else 0)
    return StageSummary("shard", read, metadata["num_rows"], time.perf_counter() - start, str(out),
                        {"split_sizes": metadata["split_sizes"], "dropped_eval_copies": len(plan.dropped),
                         "shards": len(metadata["shards"]), "bad_weights": len(bad),
                         "bad_weights_policy": shards.bad_weights})
