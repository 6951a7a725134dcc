"""`scalegmn` sub-commands: report, image-oracle."""

from pathlib import Path

import typer

from scalegmn.cli.main import OVERWRITE, app, console
from scalegmn.io import write_json
from scalegmn.tasks.image_oracle import ImageOracleConfig


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
    oracle: list[Path] = typer.Option([], help="An image oracle record (scalegmn image-oracle --out): its accuracy "
                                      "is a reference of INR classification (repeatable)."),
    bins: int = typer.Option(20, min=1, help="Histogram bins of the zoo plots."),
    edit_examples: int = typer.Option(4, min=1, help="Edited INRs shown per method."),
    overwrite: bool = OVERWRITE,
) -> None:
    """Write the comparative report (tables, plots, report.md, self-contained report.html, summary.json)."""
    from scalegmn.report.build import ReportInputs, build_report

    inputs = ReportInputs(results=results, zoos=list(zoo), symmetry=list(symmetry), selfcheck=selfcheck,
                          params=params, timings=list(timings), oracles=list(oracle), histogram_bins=bins,
                          edit_examples=edit_examples)
    try:
        written = build_report(inputs, out, overwrite=overwrite)
    except ValueError as err:
        console.print(f"[red]error:[/red] {err}", soft_wrap=True)
        raise typer.Exit(2) from None
    console.print(written.summary_line(), soft_wrap=True)


@app.command("image-oracle")
def image_oracle_cmd(
    dataset: Path = typer.Option(..., help="Graph dataset of labelled INRs (the shard stage's output)."),
    out: Path = typer.Option(..., help="Write the oracle record (JSON) here."),
    resolution: int = typer.Option(ImageOracleConfig.resolution, min=1, help="Pixels per side of the rendering."),
    svm_c: float = typer.Option(ImageOracleConfig.svm_c, help="The RBF SVC's C."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace OUT if it exists."),
) -> None:
    """Test accuracy of an RBF SVC on the INRs' rendered images, fitted on the dataset's train split: the
    ceiling a metanetwork is compared against on INR classification."""
    from scalegmn.data import open_dataset
    from scalegmn.tasks.image_oracle import image_oracle

    if out.exists() and not overwrite:
        console.print(f"[red]error:[/red] {out} exists; pass --overwrite to replace it", soft_wrap=True)
        raise typer.Exit(2)
    try:
        oracle = image_oracle(open_dataset(dataset), ImageOracleConfig(resolution, svm_c))
    except ValueError as err:
        console.print(f"[red]error:[/red] {err}", soft_wrap=True)
        raise typer.Exit(2) from None
    write_json(out, oracle.to_dict())
    console.print(oracle.line, soft_wrap=True)
