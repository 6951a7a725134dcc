"""`scalegmn` sub-commands: report."""

from pathlib import Path

import typer

from scalegmn.cli.main import OVERWRITE, app, console


@app.command("report")
def report(
    results: Path = typer.Option(Path("reports/results.json"), help="Benchmark results: a JSON list of run results."),
    runs: Path | None = typer.Option(Path("reports/runs"), help="Run directories <task>/<method>/seed<k>/ "
                                     "(predictions.csv, edit_examples.npz, dvclive/)."),
    out: Path = typer.Option(Path("reports"), help="Write report.md, report.html, summary.json, tables/, plots/ here."),
    zoo: list[Path] = typer.Option([], help="A model zoo directory to describe (repeatable)."),
    symmetry: Path | None = typer.Option(None, help="Symmetry-checker rows (scalegmn check-symmetry --out): a JSON "
                                          "file or a directory of them (one per model)."),
    selfcheck: Path | None = typer.Option(None, help="Augmentation self-check (scalegmn selfcheck --out)."),
    params: Path | None = typer.Option(None, help="params.yaml to include in the report."),
    timings: Path | None = typer.Option(None, help="Per-stage timings: a directory of <stage>.json or one "
                                        "JSON {stage: seconds}."),
    bins: int = typer.Option(20, min=1, help="Histogram bins of the zoo plots."),
    edit_examples: int = typer.Option(4, min=1, help="Edited INRs shown per method."),
    overwrite: bool = OVERWRITE,
) -> None:
    """Write the comparative report (tables, plots, report.md, self-contained report.html, summary.json)."""
    from scalegmn.report.build import ReportInputs, build_report

    inputs = ReportInputs(results=results, runs=runs, zoos=list(zoo), symmetry=symmetry, selfcheck=selfcheck,
                          params=params, timings=timings, histogram_bins=bins, edit_examples=edit_examples)
    try:
        written = build_report(inputs, out, overwrite=overwrite)
    except ValueError as err:
        console.print(f"[red]error:[/red] {err}", soft_wrap=True)
        raise typer.Exit(2) from None
    console.print(written.summary_line(), soft_wrap=True)
