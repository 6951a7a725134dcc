"""DVC stage: a zoo as a graph dataset of Arrow shards (params.yaml section `shard`).

Usage: python pipelines/shard.py ZOO   reads datasets/zoos/ZOO, writes datasets/graphs/ZOO.
"""

import sys

from scalegmn.config import from_mapping, read_section, split_mapping
from scalegmn.errors import report_errors
from scalegmn.report.timings import record_stage
from scalegmn.data.shards import ShardConfig
from scalegmn.data.splits import SplitConfig
from scalegmn.data.stages import shard_zoo


def main() -> None:
    zoo = sys.argv[1]
    where = "params.yaml: shard"
    split_values, shard_values = split_mapping(read_section("params.yaml", "shard"), (SplitConfig, ShardConfig), where)
    splits, shards = from_mapping(SplitConfig, split_values, where), from_mapping(ShardConfig, shard_values, where)
    with record_stage(f"shard-{zoo}"):
        summary = shard_zoo(f"datasets/zoos/{zoo}", f"datasets/graphs/{zoo}", splits, shards)
    print(summary.line)


report_errors(main)
