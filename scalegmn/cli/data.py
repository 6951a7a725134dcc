"""`scalegmn` sub-commands: data (shard, publish, bench-loader)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import typer

from scalegmn.cli.main import OVERWRITE, app, console
from scalegmn.data.shards import ShardConfig
from scalegmn.data.splits import SplitConfig
from scalegmn.io import write_json


def _fail(message: str) -> None:
    console.print(f"[red]error:[/red] {message}", soft_wrap=True)
    raise typer.Exit(1)


@app.command("shard")
def shard(
    zoo: Path = typer.Argument(..., help="Input zoo directory (e.g. the output of `scalegmn zoo generate`)."),
    out: Path = typer.Argument(..., help="Output graph dataset directory (replaced atomically)."),
    train: float = typer.Option(SplitConfig.train, help="Fraction of source networks in train "
                                                        "(networks with a stored split keep it)."),
    val: float = typer.Option(SplitConfig.val, help="Fraction of source networks in val."),
    test: float = typer.Option(SplitConfig.test, help="Fraction of source networks in test."),
    seed: int = typer.Option(SplitConfig.seed, help="Seed of the split permutation."),
    rows_per_shard: int = typer.Option(ShardConfig.rows_per_shard, help="Rows per Arrow shard file."),
    batch_rows: int = typer.Option(ShardConfig.batch_rows, help="Rows per Arrow record batch (the write buffer)."),
    bad_weights: str = typer.Option(ShardConfig.bad_weights, help="A network with non-finite weights or weights "
                                    "beyond --max-abs-weight: refuse (error), drop (skip, warn) or keep."),
    max_abs_weight: float = typer.Option(ShardConfig.max_abs_weight, help="Largest weight magnitude accepted as sane."),
    overwrite: bool = OVERWRITE,
) -> None:
    """Write a zoo as a graph dataset: Arrow shards, stored splits and metadata (streaming)."""
    from scalegmn.data.stages import shard_zoo

    try:
        summary = shard_zoo(zoo, out, SplitConfig(train, val, test, seed),
                            ShardConfig(rows_per_shard, batch_rows, bad_weights, max_abs_weight), overwrite=overwrite)
    except ValueError as err:
        _fail(str(err))
    console.print(summary.line, soft_wrap=True)


@app.command("publish")
def publish(
    dataset: Path = typer.Argument(..., help="Graph dataset directory (output of `scalegmn shard`)."),
    repo_id: str = typer.Option(..., help="Hub dataset repository, ORG/NAME."),
    token: str | None = typer.Option(None, help="Hugging Face token (default: HF_TOKEN or the saved login)."),
    dry_run: Path | None = typer.Option(None, help="Write the folder that would be pushed here; push nothing."),
    license: str = typer.Option("cc-by-4.0", help="License of the dataset card."),
    source: str | None = typer.Option(None, help="Source zoo for the citation: small-cnn-zoo, dws-inr, "
                                                  "nfn-cifar-inr or digits (default: guessed from the zoo name)."),
    private: bool = typer.Option(False, help="Create the repository as private."),
    rows_per_file: int = typer.Option(50_000, help="Rows per Parquet file."),
    overwrite: bool = OVERWRITE,
) -> None:
    """Publish a graph dataset to the Hugging Face Hub as Parquet with a dataset card."""
    from scalegmn.data.publish import PublishError, export_hub_folder
    from scalegmn.data.publish import publish as push

    start = time.perf_counter()
    try:
        if dry_run is not None:
            export = export_hub_folder(dataset, dry_run, repo_id=repo_id, license=license, source=source,
                                       rows_per_file=rows_per_file, overwrite=overwrite)
            files = sum(len(f) for f in export.files.values())
            console.print(f"publish (dry run): {files} Parquet files, README.md and metadata.json for {repo_id} "
                          f"written to {dry_run} in {time.perf_counter() - start:.1f} s; nothing was pushed",
                          soft_wrap=True)
            return
        url = push(dataset, repo_id=repo_id, token=token, private=private, license=license, source=source)
    except (ValueError, PublishError) as err:
        _fail(str(err))
    console.print(f"publish: {dataset} pushed to https://huggingface.co/datasets/{repo_id} ({url}) "
                  f"in {time.perf_counter() - start:.1f} s", soft_wrap=True)


@app.command("bench-loader")
def bench_loader(
    dataset: Path | None = typer.Argument(None, help="Graph dataset directory (omit with --synthetic)."),
    synthetic: int = typer.Option(0, help="Instead: write this many random float32 networks to a temporary "
                                          "dataset and load that."),
    kind: str = typer.Option("cnn", help="Synthetic networks: cnn (Small CNN Zoo architecture 1-16-16-16-10) "
                                         "or inr (SIREN 2-32-32-1)."),
    batch_size: int = typer.Option(256, help="Graphs per batch."),
    epochs: int = typer.Option(3, help="Passes over the dataset (shuffled)."),
    threads: int = typer.Option(0, help="torch threads (0: torch's default)."),
    seed: int = typer.Option(0, help="Shuffle seed."),
    out: Path | None = typer.Option(None, help="Write the measurements as JSON here."),
) -> None:
    """Measure graph loading throughput (graphs/s) of the shard-backed dataset's loader and the time to open
    it with and without checksum verification."""
    import torch

    from scalegmn.data import ShardConfig, open_dataset, write_dataset
    from scalegmn.data.synthetic import synthetic_cnn_zoo, synthetic_inr_zoo

    zoos = {"cnn": synthetic_cnn_zoo, "inr": synthetic_inr_zoo}
    if (dataset is None) == (synthetic == 0):
        _fail("give either a DATASET directory or --synthetic N")
    if kind not in zoos:
        _fail(f"--kind must be cnn or inr, got {kind!r}")
    if threads:
        torch.set_num_threads(threads)
    name = str(dataset) if dataset is not None else f"synthetic {kind} x{synthetic}"
    with tempfile.TemporaryDirectory(prefix="scalegmn-bench-") as tmp:
        write_rate = None
        if dataset is None:
            start = time.perf_counter()
            dataset = Path(tmp) / "synthetic"
            write_dataset(dataset, ((net, "train") for net in zoos[kind](synthetic)),
                          source={"info": {"name": f"synthetic-{kind}"}}, params={"synthetic": synthetic},
                          config=ShardConfig())
            write_rate = synthetic / (time.perf_counter() - start)
        try:
            opened = {}
            for how, verify in (("verified", True), ("recorded", None), ("unverified", False)):
                start = time.perf_counter()
                ds = open_dataset(dataset, verify=verify)
                opened[how] = time.perf_counter() - start
        except ValueError as err:
            _fail(str(err))
        loader = ds.loader(batch_size=batch_size, shuffle=True, seed=seed)
        rates = []
        for _ in range(epochs):
            start, graphs = time.perf_counter(), 0
            for batch in loader:
                graphs += batch.num_graphs
            rates.append(graphs / (time.perf_counter() - start))
    result = {"dataset": name, "rows": len(ds), "batch_size": batch_size, "epochs": epochs,
              "threads": torch.get_num_threads(), "graphs_per_s": rates, "best_graphs_per_s": max(rates),
              "shard_write_networks_per_s": write_rate, "open_seconds": opened}
    if out is not None:
        write_json(out, result)
    console.print(f"bench-loader: {len(ds)} graphs x {epochs} epochs, batch {batch_size}, {torch.get_num_threads()} "
                  f"threads: {max(rates):.0f} graphs/s best, {sum(rates) / len(rates):.0f} mean"
                  + (f"; shard write {write_rate:.0f} networks/s" if write_rate else "")
                  + f"; open {opened['verified']:.2f} s hashing every shard, {opened['recorded']:.2f} s when "
                    f"already verified, {opened['unverified']:.2f} s unverified", soft_wrap=True)
