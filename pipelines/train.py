"""DVC stage: the training runs of one (task, method) pair, one per seed (params.yaml section `train`).

Usage: python pipelines/train.py TASK METHOD   reads the dataset of the task's zoo kind from
`train.datasets` (cnn / inr) and the seeds from `train.seeds`; writes reports/runs/TASK/METHOD/seed<k>/
for every seed and its wall time to reports/timings/train-TASK-METHOD.json.
"""

import sys

import yaml

from scalegmn.benchmark import Benchmark
from scalegmn.report.timings import record_stage

task, method = sys.argv[1], sys.argv[2]
params = yaml.safe_load(open("params.yaml"))["train"]
bench = Benchmark([task], [method], list(params["seeds"]), params["datasets"], params)
with record_stage(f"train-{task}-{method}"):
    bench.run("reports/runs", resume=False, overrides=["progress=false"])
