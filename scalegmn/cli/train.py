"""`scalegmn` sub-commands: train (one run) and benchmark (every task × method × seed)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer
import yaml
from rich.table import Table

from scalegmn.cli.main import app, console

VERIFY = typer.Option(None, "--verify/--no-verify", help="Check the dataset shards' SHA-256: always / never "
                      "(default: once per shard file version, recorded in $SCALEGMN_CACHE_DIR).")


def _settings(path: Path | None, section: str | None) -> dict[str, Any]:
    """The layered training settings from a YAML file (optionally one top-level section of it)."""
    if path is None:
        return {}
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as err:
        raise typer.BadParameter(f"{path}: cannot read settings ({err})") from None
    if section is not None:
        if not isinstance(data, dict) or section not in data:
            raise typer.BadParameter(f"{path}: no section {section!r}")
        data = data[section]
    if not isinstance(data, dict):
        raise typer.BadParameter(f"{path}: settings must be a mapping")
    return data


def _where(path: Path | None, section: str | None) -> str:
    return "train settings" if path is None else f"{path}" + (f": {section}" if section else "")


def _csv(value: str, cast=str) -> list:
    return [cast(v.strip()) for v in value.split(",") if v.strip()]


def _shortcuts(amp: bool, compile_: bool, device: str | None, progress: bool) -> list[str]:
    out = [f"progress={str(progress).lower()}"]
    if amp:
        out.append("amp=true")
    if compile_:
        out.append("compile=true")
    if device is not None:
        out.append(f"device={device}")
    return out


@app.command("train")
def train_command(
    task: str = typer.Option(..., help="genpred-relu | genpred-tanh | genpred-mixed | inr-classification | inr-editing"),
    model: str = typer.Option(..., help="Metanetwork: a built-in name, an entry point of scalegmn.metanetworks, an "
                              "import path package.module:Class, or a method of --settings (methods.<name>)."),
    dataset: Path = typer.Option(..., help="Graph dataset directory (the shard stage's output)."),
    out: Path = typer.Option(..., help="Run directory: result.json, dvclive/ (per-epoch history), checkpoint.pt, "
                             "predictions."),
    seed: int = typer.Option(0, help="Seed of initialisation and data order."),
    config: list[str] = typer.Option([], "--config", help="Training option key=value (model.hidden=64 for a model option); repeatable."),
    settings: Path | None = typer.Option(None, help="YAML file of layered settings (defaults/tasks/methods/runs)."),
    section: str | None = typer.Option(None, help="Top-level section of --settings to use, e.g. train."),
    amp: bool = typer.Option(False, "--amp", help="Mixed precision (bfloat16 autocast unless amp_dtype=float16)."),
    compile_: bool = typer.Option(False, "--compile", help="torch.compile the model."),
    device: str | None = typer.Option(None, help="auto (CUDA if present), cpu, cuda, cuda:1 ..."),
    resume: bool = typer.Option(True, "--resume/--no-resume", help="Continue from out/checkpoint.pt if present."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
    verify: bool | None = VERIFY,
) -> None:
    """Train and evaluate one metanetwork on one task (works under `torchrun --nproc-per-node N`)."""
    from scalegmn.registry import metanetwork
    from scalegmn.run.benchmark import resolve_config
    from scalegmn.run.trainer import train

    values, where = _settings(settings, section), _where(settings, section)
    try:
        cfg = resolve_config(values, task, model, where).with_overrides(
            list(config) + _shortcuts(amp, compile_, device, progress))
        train(task, metanetwork(values, model, where), dataset, seed=seed, out_dir=out, config=cfg, method=model,
              resume=resume, verify=verify)
    except ValueError as err:
        console.print(f"[red]error:[/red] {err}", soft_wrap=True)
        raise typer.Exit(2) from None


@app.command("benchmark")
def benchmark_command(
    tasks: str = typer.Option(..., help="Comma-separated task names."),
    methods: str = typer.Option(..., help="Comma-separated methods: built-in names, entry points of "
                                "scalegmn.metanetworks, import paths package.module:Class or methods of --settings."),
    seeds: str = typer.Option("0,1,2", help="Comma-separated seeds."),
    dataset: list[str] = typer.Option(..., "--dataset", help="KIND=PATH with KIND cnn, inr or a task name; repeatable."),
    out: Path = typer.Option(Path("reports/runs"), help="Root of the run directories <task>/<method>/seed<k>."),
    results: Path = typer.Option(Path("reports/results.json"), help="Results: JSON list of run records (+ .csv beside)."),
    config: list[str] = typer.Option([], "--config", help="Training option key=value applied to every run; repeatable."),
    settings: Path | None = typer.Option(None, help="YAML file of layered settings (defaults/tasks/methods/runs)."),
    section: str | None = typer.Option(None, help="Top-level section of --settings to use, e.g. train."),
    resume: bool = typer.Option(True, "--resume/--no-resume", help="Reuse finished runs and resume interrupted ones."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show progress bars."),
    workers: int = typer.Option(1, min=1, help="Runs trained at once, each in its own process (results do not "
                                "depend on it)."),
    verify: bool | None = VERIFY,
) -> None:
    """Run every task × method × seed on the same splits; write results.json, results.csv and a summary."""
    from scalegmn.run.benchmark import Benchmark, summary_table, write_results

    datasets = {}
    for item in dataset:
        key, sep, path = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"--dataset {item!r} is not KIND=PATH")
        datasets[key] = path
    bench = Benchmark(_csv(tasks), _csv(methods), _csv(seeds, int), datasets, _settings(settings, section),
                      verify=verify, where=_where(settings, section))
    start = time.perf_counter()
    try:
        records = bench.run(out, resume, list(config) + _shortcuts(False, False, None, progress and workers == 1),
                            workers)
    except ValueError as err:
        console.print(f"[red]error:[/red] {err}", soft_wrap=True)
        raise typer.Exit(2) from None
    seconds = time.perf_counter() - start
    frame = write_results(records, results, results.with_suffix(".csv"))
    table = summary_table(frame)
    view = Table("method", *table.columns, title="test (mean ± std over seeds)")
    for method, row in table.iterrows():
        view.add_row(str(method), *[str(v) for v in row])
    console.print(view)
    counts = frame["status"].value_counts()
    run_seconds = float(frame["wall_seconds"].fillna(0).sum())
    console.print(f"benchmark: {len(frame)} runs ({counts.get('ok', 0)} trained, "
                  f"{counts.get('not_applicable', 0)} not applicable, {counts.get('failed', 0)} failed) in "
                  f"{seconds:.1f} s ({run_seconds:.1f} s of training) -> {results}", soft_wrap=True)
    for record in records:
        if record["status"] == "failed":
            console.print(f"[red]failed:[/red] {record['task']}/{record['method']}/seed{record['seed']}: "
                          f"{record['reason']}", soft_wrap=True)
    if counts.get("failed", 0):
        raise typer.Exit(1)
