"""DVC stage `symmetry`: the symmetry checker on one method's metanetwork (params `symmetry.check`, and
`train.methods.<METHOD>` for a method that names its class there, e.g. a plug-in).

Usage: python pipelines/symmetry.py METHOD OUT_JSON TIMING_JSON
"""

import argparse
import time

from scalegmn.config import from_mapping, read_section
from scalegmn.diagnostics.symmetry_checker import SymmetryCheckConfig, check_model, check_summary
from scalegmn.errors import report_errors
from scalegmn.io import write_json
from scalegmn.registry import metanetwork
from scalegmn.timing import record_stage


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("method")
    parser.add_argument("out")
    parser.add_argument("timing")
    args = parser.parse_args()
    section = read_section("params.yaml", "symmetry")
    config = from_mapping(SymmetryCheckConfig, section.get("check"), "params.yaml: symmetry.check")
    model = metanetwork(read_section("params.yaml", "train") or {}, args.method, "params.yaml: train")
    start = time.perf_counter()
    with record_stage(f"symmetry@{args.method}", args.timing):
        rows = check_model(model, config, name=args.method)
        write_json(args.out, [r.to_dict() for r in rows])
    print(check_summary(args.method, rows, config, time.perf_counter() - start))


report_errors(main)
