"""DVC stage `oracle`: the image oracle of INR classification on a graph dataset (params `oracle`).

Usage: python pipelines/oracle.py DATASET_DIR OUT_JSON TIMING_JSON. Renders every train and test INR of the
dataset, fits the classifier on the train images and writes its test accuracy to OUT_JSON.
"""

import argparse

from scalegmn.config import from_mapping, read_section
from scalegmn.data import open_dataset
from scalegmn.errors import report_errors
from scalegmn.io import write_json
from scalegmn.tasks.image_oracle import ImageOracleConfig, image_oracle
from scalegmn.timing import record_stage


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dataset")
    parser.add_argument("out")
    parser.add_argument("timing")
    args = parser.parse_args()
    config = from_mapping(ImageOracleConfig, read_section("params.yaml", "oracle"), "params.yaml: oracle")
    with record_stage("oracle", args.timing):
        oracle = image_oracle(open_dataset(args.dataset), config)
        write_json(args.out, oracle.to_dict())
    print(oracle.line)


report_errors(main)
