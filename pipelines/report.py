"""DVC stage `report`: the comparative report (params `report`).

Usage: python pipelines/report.py RESULTS_JSON SELFCHECK_JSON SYMMETRY_DIR ZOOS_DIR TIMINGS_DIR ORACLE_DIR
OUT_DIR. Reads the results, the self-check and, of the four folders, only the outputs dvc.yaml's stages
declare there (one symmetry check per model, the zoos, the stage timings, the image oracles); writes
report.md, report.html, summary.json, headline.json (the metrics `dvc exp show` shows), tables/ and plots/
into OUT_DIR.
"""

import argparse
from pathlib import Path

from declared import declared_outputs

from scalegmn.config import check_keys, from_mapping, read_section
from scalegmn.errors import report_errors
from scalegmn.report.build import ReportInputs, build_report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    for name in ("results", "selfcheck", "symmetry", "zoos", "timings", "oracles", "out"):
        parser.add_argument(name, type=Path)
    args = parser.parse_args()
    where = "params.yaml: report"
    params = read_section("params.yaml", "report") or {}
    check_keys(params, ["histogram_bins", "edit_examples"], where)
    paths = {"results": args.results, "selfcheck": args.selfcheck, "params": "params.yaml",
             "symmetry": declared_outputs(args.symmetry), "zoos": declared_outputs(args.zoos),
             "timings": declared_outputs(args.timings), "oracles": declared_outputs(args.oracles)}
    inputs = from_mapping(ReportInputs, {**paths, **params}, where)
    written = build_report(inputs, args.out)
    print(written.summary_line())


report_errors(main)
