"""The ``scalegmn`` command: one entry point, one sub-command per job."""

from __future__ import annotations

import time
from importlib.metadata import version as package_version
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from scalegmn.diagnostics.self_check import SelfCheckConfig
from scalegmn.io import write_json

app = typer.Typer(help="ScaleGMN benchmark suite: model zoos, graph datasets, metanetworks, reports.",
                  no_args_is_help=True, add_completion=False)
console = Console()
OVERWRITE = typer.Option(False, "--overwrite", help="Replace the output folder even when it holds files that are "
                         "not an earlier output of this command (they are deleted).")


def _print_version(value: bool) -> None:
    if value:
        console.print(f"scalegmn {package_version('scalegmn')}")
        raise typer.Exit()


@app.callback()
def main(version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                      help="Print the version and exit.")) -> None:
    """ScaleGMN benchmark suite."""


@app.command("selfcheck")
def selfcheck(
    seed: int = typer.Option(SelfCheckConfig.seed, help="Seed of the example networks and the symmetries."),
    trials: int = typer.Option(SelfCheckConfig.trials, help="Random symmetries per network and transform."),
    out: Path | None = typer.Option(None, help="Write the results as JSON here."),
) -> None:
    """Check numerically that every weight transformation preserves the forward pass."""
    from scalegmn.diagnostics.self_check import run_selfcheck, selfcheck_record, selfcheck_summary

    start = time.perf_counter()
    results = run_selfcheck(SelfCheckConfig(seed=seed, trials=trials))
    table = Table("network", "transform", "trials", "max rel. error", "ok")
    for r in results:
        table.add_row(r.network, r.transform, str(r.trials), f"{r.max_rel_error:.2e}", "yes" if r.passed else "NO")
    console.print(table)
    if out is not None:
        write_json(out, selfcheck_record(results))
    console.print(selfcheck_summary(results, time.perf_counter() - start))
    if not all(r.passed for r in results):
        raise typer.Exit(1)


@app.command("profile")
def profile(
    name: str = typer.Argument(..., help="Profile: default, or the name of a file in profiles/."),
    params: Path = typer.Option(Path("params.yaml"), help="The params file the overrides apply to."),
    default: Path | None = typer.Option(None, help="The default-profile params the profile is resolved on "
                                        "(default: --params, which must then hold the default profile)."),
    profiles_dir: Path = typer.Option(Path("profiles"), help="Directory of profile overlays."),
) -> None:
    """Print DVC's -S overrides that switch the params to a profile: `dvc exp run $(scalegmn profile smoke)`."""
    from scalegmn.profiles import load_params, profile_overrides

    try:
        overrides = profile_overrides(name, load_params(params), load_params(default or params), profiles_dir)
    except ValueError as err:
        console.print(f"error: {err}")
        raise typer.Exit(2) from None
    print(" ".join(f"-S {o}" for o in overrides))
