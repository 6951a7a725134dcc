"""DVC stage `selfcheck`: numerical self-check of every weight transformation (params `selfcheck`).

Usage: python pipelines/selfcheck.py OUT_JSON TIMING_JSON
"""

import argparse
import sys
import time

from scalegmn.config import from_mapping, read_section
from scalegmn.diagnostics.self_check import SelfCheckConfig, run_selfcheck, selfcheck_record, selfcheck_summary
from scalegmn.errors import report_errors
from scalegmn.io import write_json
from scalegmn.timing import record_stage


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out")
    parser.add_argument("timing")
    args = parser.parse_args()
    config = from_mapping(SelfCheckConfig, read_section("params.yaml", "selfcheck"), "params.yaml: selfcheck")
    start = time.perf_counter()
    with record_stage("selfcheck", args.timing):
        results = run_selfcheck(config)
        write_json(args.out, selfcheck_record(results))
    print(selfcheck_summary(results, time.perf_counter() - start))
    if not all(r.passed for r in results):
        sys.exit(1)


report_errors(main)
