"""`scalegmn zoo ...`: generate the digits zoos, download public zoos, export, inspect and merge zoos."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer

from scalegmn.cli.main import OVERWRITE, app, console
from scalegmn.zoo.cnn_zoo import CnnZooConfig
from scalegmn.zoo.inr_zoo import InrZooConfig

zoo_app = typer.Typer(help="Model zoos: generate, download, export, inspect, merge.", no_args_is_help=True)
generate_app = typer.Typer(help="Generate an offline zoo from scikit-learn's 8x8 digits.", no_args_is_help=True)
zoo_app.add_typer(generate_app, name="generate")
app.add_typer(zoo_app, name="zoo")

WORKERS = typer.Option(os.cpu_count() or 1, help="Worker processes (single-threaded each).")
PROGRESS = typer.Option(True, "--progress/--no-progress", help="Show a progress bar.")


def _joined(values: tuple) -> str:
    return ",".join(str(v) for v in values)


def _csv(text: str, kind: type) -> tuple:
    try:
        return tuple(kind(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise typer.BadParameter(f"expected a comma-separated list of {kind.__name__}, got {text!r}") from None


def _fail(err: Exception) -> None:
    console.print(f"[red]error:[/red] {err}", soft_wrap=True)
    raise typer.Exit(1)


@generate_app.command("cnn")
def generate_cnn(
    out: Path = typer.Option(Path("datasets/zoos") / CnnZooConfig.name, help="Output zoo directory."),
    size: int = typer.Option(CnnZooConfig.size, help="Members in the whole zoo."),
    seed: int = typer.Option(CnnZooConfig.seed, help="Zoo seed (hyper-parameters, inits, minibatches)."),
    epochs: int = typer.Option(CnnZooConfig.epochs,
                               help="Epochs over the digits train split (same steps for every member)."),
    batch_size: int = typer.Option(CnnZooConfig.batch_size, help="Minibatch size."),
    widths: str = typer.Option(_joined(CnnZooConfig.widths),
                               help="Channel widths to sample per member, e.g. '8' or '4,8,16'."),
    activations: str = typer.Option(_joined(CnnZooConfig.activations), help="Activations to sample."),
    block_size: int = typer.Option(CnnZooConfig.block_size, help="Members per independently seeded block."),
    start: int = typer.Option(0, help="First member to generate (a multiple of --block-size)."),
    count: int | None = typer.Option(None, help="Members to generate (default: to the end)."),
    workers: int = WORKERS,
    progress: bool = PROGRESS,
    overwrite: bool = OVERWRITE,
) -> None:
    """Train the digits-cnn zoo (many members at once) and print members/s and the accuracy spread."""
    from scalegmn.zoo.generate import write_cnn_zoo

    try:
        config = CnnZooConfig(size=size, seed=seed, epochs=epochs, batch_size=batch_size, widths=_csv(widths, int),
                              activations=_csv(activations, str), block_size=block_size)
        info = write_cnn_zoo(config, out, start=start, count=count, workers=workers, progress=progress,
                             overwrite=overwrite)
    except ValueError as err:
        _fail(err)
    console.print(info["summary"] + f" -> {out}")


@generate_app.command("inr")
def generate_inr(
    out: Path = typer.Option(Path("datasets/zoos") / InrZooConfig.name, help="Output zoo directory."),
    size: int | None = typer.Option(InrZooConfig.size, help="Fit the first SIZE digits (default: all 1797)."),
    seed: int = typer.Option(InrZooConfig.seed, help="Seed of the SIREN initialisations."),
    steps: int = typer.Option(InrZooConfig.steps, help="Adam steps per fit."),
    learning_rate: float = typer.Option(InrZooConfig.learning_rate, help="Adam learning rate."),
    hidden: str = typer.Option(_joined(InrZooConfig.hidden), help="Hidden widths."),
    w0: float = typer.Option(InrZooConfig.w0, help="SIREN frequency: sin(w0 * z) in every hidden layer."),
    resolution: int = typer.Option(InrZooConfig.resolution, help="Pixels per side of the fitting grid."),
    fits_per_digit: int = typer.Option(InrZooConfig.fits_per_digit, help="SIRENs fitted to each digit."),
    max_rotation: float = typer.Option(InrZooConfig.max_rotation, help="Random rotation per fit, ± degrees."),
    max_shift: float = typer.Option(InrZooConfig.max_shift, help="Random shift per fit, ± pixels of the 8x8 digit."),
    coords_per_step: int | None = typer.Option(InrZooConfig.coords_per_step,
                                               help="Pixels per Adam step (default: all)."),
    start: int = typer.Option(0, help="First digit to fit."),
    count: int | None = typer.Option(None, help="Digits to fit (default: all 1797 from --start)."),
    workers: int = WORKERS,
    progress: bool = PROGRESS,
    overwrite: bool = OVERWRITE,
) -> None:
    """Fit SIRENs to the digit images (batched) and print INRs/s and the PSNR."""
    from scalegmn.zoo.generate import write_inr_zoo

    try:
        config = InrZooConfig(size=size, seed=seed, steps=steps, learning_rate=learning_rate,
                              hidden=_csv(hidden, int), w0=w0, resolution=resolution, fits_per_digit=fits_per_digit,
                              max_rotation=max_rotation, max_shift=max_shift, coords_per_step=coords_per_step)
        info = write_inr_zoo(config, out, start=start, count=count, workers=workers, progress=progress,
                             overwrite=overwrite)
    except ValueError as err:
        _fail(err)
    console.print(info["summary"] + f" -> {out}")


@zoo_app.command("download")
def download(
    name: str = typer.Argument(..., help="cifar10-gs, svhn-gs, mnist-gs, fmnist-gs, mnist-inr, fmnist-inr, cifar10-inr."),
    dest: Path = typer.Option(Path("datasets"), help="The zoo is extracted into DEST/NAME."),
    from_file: Path | None = typer.Option(None, help="Use this archive (placed by hand) instead of downloading."),
    downloads: Path | None = typer.Option(None, help="Where downloaded archives go (default DEST/downloads)."),
    progress: bool = PROGRESS,
    overwrite: bool = OVERWRITE,
) -> None:
    """Download (resumable), verify and extract a public zoo."""
    from scalegmn.zoo.download import DownloadError, acquire_zoo, get_source

    try:
        source = get_source(name)
        out = acquire_zoo(source, dest, from_file=from_file, downloads=downloads, progress=progress,
                          overwrite=overwrite)
    except (ValueError, DownloadError) as err:
        _fail(err)
    record = json.loads((out / "SOURCE.json").read_text())
    note = "checksum verified" if record["verified"] else "no published checksum: recorded sha256 " + record["sha256"]
    console.print(f"{name}: {record['size']} bytes from {record['archive']} extracted to {out} ({note})")


@zoo_app.command("export")
def export(
    src: Path = typer.Argument(..., help="A zoo directory of one CNN architecture (any supported format)."),
    out: Path = typer.Argument(..., help="Output directory in the Small CNN Zoo format."),
    dataset: str = typer.Option("digits", help="Written to config.dataset."),
    overwrite: bool = OVERWRITE,
) -> None:
    """Export a CNN zoo as weights.npy + metrics.csv.gz + layout.csv (Small CNN Zoo format)."""
    from scalegmn.io import check_output_dir
    from scalegmn.zoo import export_small_cnn_zoo, load_networks

    try:
        check_output_dir(out, "small-cnn-zoo", overwrite=overwrite, inputs=[src])
        nets = list(load_networks(src))
        export_small_cnn_zoo(nets, out, dataset=dataset, overwrite=overwrite, inputs=[src])
    except ValueError as err:
        _fail(err)
    console.print(f"exported {len(nets)} networks from {src} to {out} (Small CNN Zoo format)")


@zoo_app.command("export-dws")
def export_dws(
    dataset: Path = typer.Argument(..., help="A graph dataset of SIRENs (the output of `scalegmn shard`)."),
    out: Path = typer.Argument(..., help="Output directory in the DWS MNIST INR layout."),
    name: str | None = typer.Option(None, help="Start of every INR folder name (default: the source zoo's name)."),
    path_prefix: str | None = typer.Option(None, help="Start of every path in the splits JSON, as the official "
                                           "training script's working directory sees the export "
                                           "(default: data/<OUT folder name>)."),
    overwrite: bool = OVERWRITE,
) -> None:
    """Export a graph dataset of SIRENs as DWS state dicts plus a splits JSON (the official ScaleGMN input)."""
    from scalegmn.zoo.dws_export import export_dws_inrs

    try:
        done = export_dws_inrs(dataset, out, name=name, path_prefix=path_prefix, overwrite=overwrite)
    except ValueError as err:
        _fail(err)
    sizes = ", ".join(f"{split} {n}" for split, n in done.split_sizes.items())
    console.print(f"exported {done.count} INRs ({sizes}; layer_layout {list(done.layer_layout)}) from {dataset} "
                  f"to {out} in {done.seconds:.1f} s; splits: {done.splits_file}", soft_wrap=True)


@zoo_app.command("info")
def info(path: Path = typer.Argument(..., help="A zoo directory (any supported format).")) -> None:
    """Print a zoo's summary (name, kind, format, size, splits, score/PSNR statistics) as JSON."""
    from scalegmn.zoo import zoo_info

    try:
        summary = zoo_info(path)
    except ValueError as err:
        _fail(err)
    console.print_json(json.dumps(summary))


@zoo_app.command("merge")
def merge(
    out: Path = typer.Argument(..., help="Output zoo directory."),
    pieces: list[Path] = typer.Argument(..., help="Zoo pieces (our format), in order."),
    overwrite: bool = OVERWRITE,
) -> None:
    """Merge zoo pieces generated separately (--start/--count) into one zoo."""
    from scalegmn.zoo import merge_zoos

    try:
        total = merge_zoos(pieces, out, overwrite=overwrite)
    except ValueError as err:
        _fail(err)
    console.print(f"merged {len(pieces)} pieces into {out}: {total} networks")
