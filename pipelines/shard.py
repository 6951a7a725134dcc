"""DVC stage: a zoo as a graph dataset of Arrow shards (params.yaml section `shard`).

Usage: python pipelines/shard.py ZOO   reads datasets/augmented/ZOO, writes datasets/graphs/ZOO.
"""

import subprocess
import sys

import yaml

from scalegmn.report.timings import record_stage

zoo = sys.argv[1]
params = yaml.safe_load(open("params.yaml"))["shard"]
with record_stage(f"shard-{zoo}"):
    code = subprocess.call([
        "scalegmn", "shard", f"datasets/augmented/{zoo}", f"datasets/graphs/{zoo}",
        "--train", str(params["train"]), "--val", str(params["val"]), "--test", str(params["test"]),
        "--seed", str(params["seed"]), "--rows-per-shard", str(params["rows_per_shard"]),
        "--batch-rows", str(params["batch_rows"]),
    ])
    if code:
        sys.exit(code)
