"""DVC stage: the comparative report (reads params.yaml section `report`; writes reports/report.md,
report.html, summary.json, tables/, plots/ and its own time to reports/timings/report.json)."""

from pathlib import Path

import yaml

from scalegmn.report.build import ReportInputs, build_report
from scalegmn.report.timings import record_stage

params = yaml.safe_load(open("params.yaml"))["report"]
inputs = ReportInputs(
    results=Path("reports/results.json"),
    runs=Path("reports/runs"),
    zoos=[Path(p) for p in params["zoos"]],
    symmetry=Path("reports/symmetry"),
    selfcheck=Path("reports/selfcheck.json"),
    params=Path("params.yaml"),
    timings=Path("reports/timings"),
    histogram_bins=params["histogram_bins"],
    edit_examples=params["edit_examples"],
)
with record_stage("report"):
    written = build_report(inputs, "reports")
print(written.summary_line())
