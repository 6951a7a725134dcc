"""The ``scalegmn`` command: one entry point, one sub-command per job."""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from scalegmn.io import write_json

app = typer.Typer(help="ScaleGMN benchmark suite: model zoos, graph datasets, metanetworks, reports.",
                  no_args_is_help=True, add_completion=False)
console = Console()
OVERWRITE = typer.Option(False, "--overwrite", help="Replace the output folder even when it holds files that are "
                         "not an earlier output of this command (they are deleted).")


@app.callback()
def main() -> None:
    """ScaleGMN benchmark suite."""


@app.command("selfcheck")
def selfcheck(
    seed: int = typer.Option(0, help="Seed of the example networks and the symmetries."),
    trials: int = typer.Option(5, help="Random symmetries per network and transform."),
    out: Path | None = typer.Option(None, help="Write the results as JSON here."),
) -> None:
    """Check numerically that every weight transformation preserves the forward pass."""
    from scalegmn.diagnostics.self_check import run_selfcheck

    start = time.perf_counter()
    results = run_selfcheck(seed, trials)
    seconds = time.perf_counter() - start
    table = Table("network", "transform", "trials", "max rel. error", "ok")
    for r in results:
        table.add_row(r.network, r.transform, str(r.trials), f"{r.max_rel_error:.2e}", "yes" if r.passed else "NO")
    console.print(table)
    passed = sum(r.passed for r in results)
    if out is not None:
        write_json(out, {"checks": len(results), "passed": passed,
                         "max_rel_error": max(r.max_rel_error for r in results),
                         "results": [asdict(r) for r in results]})
    console.print(f"selfcheck: {passed}/{len(results)} checks passed, "
                  f"{len(results) * trials} transformed networks in {seconds:.2f} s")
    if passed != len(results):
        raise typer.Exit(1)


@app.command("profile")
def profile(
    name: str = typer.Argument(..., help="Profile: default, or the name of a file in profiles/."),
    params: Path = typer.Option(Path("params.yaml"), help="The params file (must hold the default profile)."),
    profiles_dir: Path = typer.Option(Path("profiles"), help="Directory of profile overlays."),
) -> None:
    """Rewrite params.yaml as a profile (e.g. smoke, paper); then run `dvc repro`."""
    from scalegmn.profiles import apply_profile

    try:
        apply_profile(name, params, profiles_dir)
    except ValueError as err:
        console.print(f"error: {err}")
        raise typer.Exit(2) from None
    console.print(f"profile: {params} now holds profile {name!r}; run `dvc repro`")
