"""DVC stage: one training run (params.yaml section `train`).

Usage: python pipelines/train.py TASK METHOD SEED   reads the dataset of the task's zoo kind from
`train.datasets` (cnn / inr), writes reports/runs/TASK/METHOD/seedSEED/ and reports/timings/train-....json.
"""

import sys

import yaml

from scalegmn.benchmark import Benchmark
from scalegmn.report.timings import record_stage

task, method, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
params = yaml.safe_load(open("params.yaml"))["train"]
bench = Benchmark([task], [method], [seed], params["datasets"], params)
with record_stage(f"train-{task}-{method}-seed{seed}"):
    bench.run_one(task, method, seed, "reports/runs", resume=False, overrides=["progress=false"])
