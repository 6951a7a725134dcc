"""`scalegmn` sub-commands: report."""

from pathlib import Path

import typer

from scalegmn.cli.main import OVERWRITE, app, console


@app.command("report")
def report(
    results: Path = typer.Option(Path("reports/results.json"), help="Benchmark results: a JSON list of run results "
                                 "(scalegmn benchmark); each record's run_dir holds its predictions and dvclive/."),
    out: Path = typer.Option(Path("reports"), help="Write report.md, report.html, summary.json, headline.json, "
                             "tables/, plots/ here."),
    zoo: list[Path] = typer.Option([], help="A model zoo directory to describe (repeatable)."),
    symmetry: list[Path] = typer.Option([], help="Symmetry-checker rows (scalegmn check-symmetry --out), one JSON "
                                        "file per model, or a directory of them (repeatable)."),
    selfcheck: Path | None = typer.Option(None, help="Augmentation self-check (scalegmn selfcheck --out)."),
    params: Path | None = typer.Option(None, help="params.yaml to include in the report."),
    timings: list[Path] = typer.Option([], help="Per-stage timings: a <stage>.json file, a directory of them or one "
                                       "JSON {stage: seconds} (repeatable)."),
    bins: int = typer.Option(20, min=1, help="Histogram bins of the zoo plots."),
    edit_examples: int = typer.Option(4, min=1, help="Edited INRs shown per method."),
    overwrite: bool = OVERWRITE,
) -> None:
    """Write the comparative report (tables, plots, report.md, self-contained report.html, summary.json)."""
    from scalegmn.report.build import ReportInputs, build_report

    inputs = ReportInputs(results=results, zoos=list(zoo), symmetry=list(symmetry), selfcheck=selfcheck,
                          params=params, timings=list(timings), histogram_bins=bins, edit_examples=edit_examples)
    try:
        written = build_report(inputs, out, overwrite=overwrite)
    except ValueError as err:
        console.print(f"[red]error:[/red] {err}", soft_wrap=True)
        raise typer.Exit(2) from None
    console.print(written.summary_line(), soft_wrap=True)
