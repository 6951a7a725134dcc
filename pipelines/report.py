"""DVC stage: the comparative report (reads params.yaml section `report`; writes reports/report.md,
report.html, summary.json, tables/, plots/ and its own time to reports/timings/report.json)."""

from scalegmn.config import check_keys, from_mapping, read_section
from scalegmn.errors import report_errors
from scalegmn.report.build import ReportInputs, build_report
from scalegmn.report.timings import record_stage


def main() -> None:
    where = "params.yaml: report"
    params = read_section("params.yaml", "report") or {}
    check_keys(params, ["zoos", "histogram_bins", "edit_examples"], where)
    paths = {"results": "reports/results.json", "runs": "reports/runs", "symmetry": "reports/symmetry",
             "selfcheck": "reports/selfcheck.json", "params": "params.yaml", "timings": "reports/timings"}
    inputs = from_mapping(ReportInputs, {**paths, **params}, where)
    with record_stage("report"):
        written = build_report(inputs, "reports")
    print(written.summary_line())


report_errors(main)
