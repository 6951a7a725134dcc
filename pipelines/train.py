"""DVC stage: training runs of one (task, method) pair (params.yaml section `train`).

Usage: python pipelines/train.py TASK METHOD [SEED]   one seed, or every seed of `train.seeds`. Reads the
dataset of the task's zoo kind from `train.datasets` (cnn / inr); writes reports/runs/TASK/METHOD/seed<k>/
and the wall time to reports/timings/train-TASK-METHOD[-seedSEED].json. Exits 1 if a run failed.
"""

import sys

from scalegmn.run.benchmark import Benchmark
from scalegmn.config import ConfigError, read_section
from scalegmn.errors import report_errors
from scalegmn.report.timings import record_stage

MATRIX_KEYS = ("genpred", "inr_classification", "inr_editing")  # read by dvc.yaml's matrices, not here


def main() -> None:
    task, method = sys.argv[1], sys.argv[2]
    params = read_section("params.yaml", "train")
    for key in ("seeds", "datasets"):
        if key not in params:
            raise ConfigError(f"params.yaml: train: missing {key!r}")
    seeds = [int(sys.argv[3])] if len(sys.argv) > 3 else list(params["seeds"])
    stage = f"train-{task}-{method}" + (f"-seed{seeds[0]}" if len(sys.argv) > 3 else "")
    settings = {k: v for k, v in params.items() if k not in MATRIX_KEYS}
    bench = Benchmark([task], [method], seeds, params["datasets"], settings, where="params.yaml: train")
    with record_stage(stage):
        records = bench.run("reports/runs", resume=False, overrides=["progress=false"])
    failed = [r for r in records if r["status"] == "failed"]
    for r in failed:
        print(f"error: {r['task']}/{r['method']}/seed{r['seed']} failed: {r['reason']}", file=sys.stderr)
    if failed:
        sys.exit(1)


report_errors(main)
