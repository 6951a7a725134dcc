"""DVC stage `shard`: a zoo as a graph dataset of Arrow shards (params `shard`).

Usage: python pipelines/shard.py ZOO_DIR OUT_DIR TIMING_JSON
"""

import argparse
from pathlib import Path

from scalegmn.config import from_mapping, read_section, split_mapping
from scalegmn.data.shards import ShardConfig
from scalegmn.data.splits import SplitConfig
from scalegmn.data.stages import shard_zoo
from scalegmn.errors import report_errors
from scalegmn.timing import record_stage


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("zoo", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("timing")
    args = parser.parse_args()
    where = "params.yaml: shard"
    split_values, shard_values = split_mapping(read_section("params.yaml", "shard"), (SplitConfig, ShardConfig), where)
    splits, shards = from_mapping(SplitConfig, split_values, where), from_mapping(ShardConfig, shard_values, where)
    with record_stage(f"shard@{args.zoo.name}", args.timing):
        summary = shard_zoo(args.zoo, args.out, splits, shards)
    print(summary.line)


report_errors(main)
