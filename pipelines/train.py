"""DVC stage `train_*`: every seed of one (task, method) (params `train.seeds`, `train.defaults`,
`train.tasks.<task>`, `train.methods.<method>`, `train.runs.<task>`; `train.workers` runs at once, which no result
depends on).

Usage: python pipelines/train.py TASK METHOD DATASET_DIR OUT_DIR TIMING_JSON. OUT_DIR is
`<runs root>/<task>/<method>`; each seed's run (result.json, DVCLive metrics, checkpoint, predictions) goes to
OUT_DIR/seed<k>. Exits 1 if a run failed (e.g. went non-finite), after every seed has run.
"""

import argparse
import sys
from pathlib import Path

from scalegmn.config import ConfigError, check_keys, read_section
from scalegmn.errors import report_errors
from scalegmn.registry import method_slug
from scalegmn.run.benchmark import Benchmark
from scalegmn.timing import record_stage

SETTINGS = ("defaults", "tasks", "methods", "runs")  # the run settings; each train stage declares them as params
MATRIX = ("seeds", "workers", "genpred", "inr_classification", "inr_editing")  # the matrices and the pool


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("task")
    parser.add_argument("method")
    parser.add_argument("dataset", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("timing")
    args = parser.parse_args()
    where = "params.yaml: train"
    params = read_section("params.yaml", "train")
    check_keys(params, [*SETTINGS, *MATRIX], where, "section")
    if (args.out.parent.name, args.out.name) != (args.task, method_slug(args.method)):
        raise ConfigError(f"{args.out}: the runs of {args.task}/{args.method} go to <runs root>/{args.task}/"
                          f"{method_slug(args.method)}")
    seeds = [int(seed) for seed in params.get("seeds") or [0]]
    workers = min(params.get("workers") or len(seeds), len(seeds))  # 3 seeds on 2 cores: together, no straggler
    settings = {key: params[key] for key in SETTINGS if key in params}
    bench = Benchmark([args.task], [args.method], seeds, {args.task: args.dataset}, settings, where=where)
    with record_stage(f"train@{args.task}-{args.method}", args.timing) as clock:
        records = bench.run(args.out.parent.parent, resume=False, overrides=["progress=false"], workers=workers)
        failed = [r for r in records if r["status"] == "failed"]
        print(f"train {args.task}/{args.method}: {len(records)} seeds, {len(failed)} failed, on {workers} workers in "
              f"{clock.seconds():.1f} s -> {args.out}")
    for record in failed:
        print(f"error: {args.task}/{args.method}/seed{record['seed']} failed: {record['reason']}", file=sys.stderr)
    if failed:
        sys.exit(1)


if __name__ == "__main__":  # spawned training workers import this module without running it
    report_errors(main)
