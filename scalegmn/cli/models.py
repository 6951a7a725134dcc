"""`scalegmn` sub-commands: models (symmetry check, training-throughput benchmark)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import typer
from rich.progress import Progress
from rich.table import Table

from scalegmn.cli.main import app, console
from scalegmn.diagnostics.symmetry_checker import SymmetryCheckConfig
from scalegmn.io import write_json


def _parse_config(items: list[str]) -> dict:
    """``key=value`` pairs; values parsed as int, float, bool or left as strings."""
    config: dict = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"config {item!r}: expected key=value")
        lowered = value.lower()
        if lowered in ("true", "false"):
            config[key] = lowered == "true"
            continue
        for cast in (int, float):
            try:
                config[key] = cast(value)
                break
            except ValueError:
                continue
        else:
            config[key] = value
    return config


@app.command("check-symmetry")
def check_symmetry_cmd(
    model: str = typer.Argument(..., help="Built-in model name, entry point of scalegmn.metanetworks or import "
                                "path package.module:Class."),
    out: Path | None = typer.Option(None, help="Write the rows as JSON here."),
    kind: str = typer.Option(SymmetryCheckConfig.kind, help="Example networks: cnn, mlp or siren."),
    activations: str = typer.Option(",".join(SymmetryCheckConfig.activations),
                                    help="Comma-separated activations, cycled over the networks."),
    networks: int = typer.Option(SymmetryCheckConfig.networks, help="Number of example networks."),
    trials: int = typer.Option(SymmetryCheckConfig.trials, help="Random transforms per network and transform type."),
    seed: int = typer.Option(SymmetryCheckConfig.seed, help="Seed of the networks, the model and the transforms."),
    config: list[str] = typer.Option([], "--config", "-c", help="Model config key=value (repeatable)."),
) -> None:
    """Max relative output change of MODEL under permutations, scalings and both (float64)."""
    from scalegmn.diagnostics.symmetry_checker import check_model, check_summary

    start = time.perf_counter()
    settings = SymmetryCheckConfig(kind, tuple(activations.split(",")), networks, trials, seed)
    try:
        rows = check_model(model, settings, _parse_config(config))
    except ValueError as err:
        raise typer.BadParameter(str(err)) from None
    table = Table("model", "transform", "max rel. change", "kind", "holds (< 1e-4)", "claimed")
    for r in rows:
        table.add_row(r.model, r.transform, f"{r.max_rel_change:.2e}", r.kind, "yes" if r.holds else "NO",
                      "yes" if r.claimed else "no")
    console.print(table)
    if out is not None:
        write_json(out, [r.to_dict() for r in rows])
    console.print(check_summary(model, rows, settings, time.perf_counter() - start))


@app.command("bench-train")
def bench_train_cmd(
    model: str = typer.Option("scalegmn,scalegmn-fast,scalegmn-b,scalegmn-b-fast",
                              help="Comma-separated registered model names or import paths, run interleaved."),
    arch: list[str] = typer.Option(["small-cnn-zoo"], help="Architecture(s) to benchmark: small-cnn-zoo, digits-cnn (ReLU CNNs), "
                                                      "digits-inr (SIRENs 2-32-32-1)."),
    batch_size: int = typer.Option(64, help="Graphs per batch."),
    steps: int = typer.Option(10, help="Timed training steps per repeat."),
    warmup: int = typer.Option(2, help="Untimed warm-up steps."),
    repeats: int = typer.Option(3, help="Timed repeats (best and median are reported)."),
    threads: int = typer.Option(2, help="torch.set_num_threads."),
    seed: int = typer.Option(0, help="Seed."),
    config: list[str] = typer.Option([], "--config", "-c", help="Model config key=value (repeatable)."),
    out: Path | None = typer.Option(None, help="Write the results as JSON here."),
) -> None:
    """Training throughput (graphs/s, forward + backward + AdamW step) on random ReLU CNN or SIREN graphs; a model
    and its ``-fast`` (factorized) variant are printed side by side with their speed ratio."""
    from scalegmn.diagnostics.throughput import benchmark_training, speed_ratios

    start = time.perf_counter()
    names = [m.strip() for m in model.split(",") if m.strip()]
    results = []
    with Progress(console=console, transient=True) as progress:
        for name in arch:
            task = progress.add_task(f"{', '.join(names)} on {name}", total=repeats * len(names))
            try:
                results += benchmark_training(
                    names, name, batch_size=batch_size, steps=steps, warmup=warmup, repeats=repeats,
                    threads=threads, seed=seed, progress=lambda m, r, v, t=task: progress.advance(t),
                    **_parse_config(config))
            except ValueError as err:
                raise typer.BadParameter(str(err)) from None
    table = Table("model", "architecture", "params", "graphs/s (runs)", "best", "median", "vs -fast",
                  title=f"training throughput: batch {batch_size}, {threads} thread(s), float32")
    for name in arch:
        rows = [r for r in results if r.architecture == name]
        ratios = speed_ratios(rows)
        for r in rows:
            table.add_row(r.model, f"{r.architecture} ({r.nodes_per_graph} nodes, {r.edges_per_graph} edges)",
                          f"{r.num_params:,}", " ".join(f"{v:.1f}" for v in r.graphs_per_s), f"{r.best:.1f}",
                          f"{r.median:.1f}", f"{ratios[r.model]:.2f}x" if r.model in ratios else "")
    console.print(table)
    if out is not None:
        write_json(out, [dict(vars(r), best=r.best, median=r.median) for r in results])
    total = sum(r.batch_size * steps * repeats for r in results)
    console.print(f"bench-train: {len(results)} model x architecture runs, {total} graphs trained in "
                  f"{time.perf_counter() - start:.1f} s, peak RSS {max(r.peak_rss_mb for r in results):.0f} MB; "
                  "best " + ", ".join(f"{r.model}@{r.architecture} {r.best:.1f} graphs/s" for r in results))
    if threads > 1 and "OMP_WAIT_POLICY" not in os.environ:
        console.print("hint: if other processes share these cores, spinning OpenMP threads can cut throughput "
                      "several-fold; compare with OMP_WAIT_POLICY=PASSIVE (set before starting) or --threads 1")
