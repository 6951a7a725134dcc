"""DVC stage `train_*`: one training run (params `train.defaults`, `train.tasks.<task>`, `train.methods.<method>`).

Usage: python pipelines/train.py TASK METHOD SEED DATASET_DIR OUT_DIR TIMING_JSON. Writes the run (result.json,
DVCLive metrics, checkpoint, predictions) to OUT_DIR; exits 1 if the run failed (e.g. went non-finite).
"""

import argparse
import sys
from pathlib import Path

from scalegmn.config import check_keys, read_section
from scalegmn.errors import report_errors
from scalegmn.run.benchmark import Benchmark, resolve_config
from scalegmn.timing import record_stage

SETTINGS = ("defaults", "tasks", "methods")  # the run settings; each train stage declares its entries as params
MATRIX = ("seeds", "genpred", "inr_classification", "inr_editing")  # read by dvc.yaml's matrices, not here


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("task")
    parser.add_argument("method")
    parser.add_argument("seed", type=int)
    parser.add_argument("dataset", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("timing")
    args = parser.parse_args()
    where = "params.yaml: train"
    params = read_section("params.yaml", "train")
    check_keys(params, [*SETTINGS, *MATRIX], where, "section")
    settings = {key: params[key] for key in SETTINGS if key in params}
    config = resolve_config(settings, args.task, args.method, where).with_overrides(["progress=false"])
    bench = Benchmark([args.task], [args.method], [args.seed], {args.task: args.dataset}, settings, where=where)
    with record_stage(f"train@{args.task}-{args.method}-{args.seed}", args.timing):
        record = bench.train_into(args.task, args.method, args.seed, args.out, config, resume=False)
    if record["status"] == "failed":
        print(f"error: {args.task}/{args.method}/seed{args.seed} failed: {record['reason']}", file=sys.stderr)
        sys.exit(1)


report_errors(main)
