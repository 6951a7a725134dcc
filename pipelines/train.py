"""DVC stage: training runs of one (task, method) pair (params.yaml section `train`).

Usage: python pipelines/train.py TASK METHOD [SEED]   one seed, or every seed of `train.seeds`. Reads the
dataset of the task's zoo kind from `train.datasets` (cnn / inr); writes reports/runs/TASK/METHOD/seed<k>/
and the wall time to reports/timings/train-TASK-METHOD[-seedSEED].json.
"""

import sys

import yaml

from scalegmn.benchmark import Benchmark
from scalegmn.report.timings import record_stage

task, method = sys.argv[1], sys.argv[2]
params = yaml.safe_load(open("params.yaml"))["train"]
seeds = [int(sys.argv[3])] if len(sys.argv) > 3 else list(params["seeds"])
stage = f"train-{task}-{method}" + (f"-seed{seeds[0]}" if len(sys.argv) > 3 else "")
bench = Benchmark([task], [method], seeds, params["datasets"], params)
with record_stage(stage):
    records = bench.run("reports/runs", resume=False, overrides=["progress=false"])
failed = [r for r in records if r["status"] == "failed"]
for r in failed:
    print(f"error: {r['task']}/{r['method']}/seed{r['seed']} failed: {r['reason']}", file=sys.stderr)
sys.exit(1 if failed else 0)
