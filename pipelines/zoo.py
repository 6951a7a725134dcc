"""DVC stage: acquire a model zoo. ``python pipelines/zoo.py cnn|inr`` generates digits-cnn / digits-inr from
``params.yaml: zoo``; ``python pipelines/zoo.py download NAME`` fetches a public zoo (needs internet, or the
archive placed under ``datasets/downloads``). Writes ``datasets/<name>`` and ``reports/zoo/<name>.json``."""

import os
import sys

import yaml

from scalegmn.io import write_json
from scalegmn.zoo.cnn_zoo import CnnZooConfig
from scalegmn.zoo.download import acquire_zoo, get_source
from scalegmn.zoo.generate import write_cnn_zoo, write_inr_zoo
from scalegmn.zoo.inr_zoo import InrZooConfig


def main(argv: list[str]) -> None:
    params = yaml.safe_load(open("params.yaml"))["zoo"]
    workers = params.get("workers") or os.cpu_count() or 1
    if argv[:1] == ["download"] and len(argv) == 2:
        print(f"{argv[1]}: extracted to {acquire_zoo(get_source(argv[1]), 'datasets')}")
        return
    if argv not in (["cnn"], ["inr"]):
        sys.exit("usage: python pipelines/zoo.py cnn | inr | download NAME")
    if argv == ["cnn"]:
        config = CnnZooConfig(**params["cnn"])
        info = write_cnn_zoo(config, f"datasets/{config.name}", workers=workers)
    else:
        config = InrZooConfig(**params["inr"])
        info = write_inr_zoo(config, f"datasets/{config.name}", workers=workers)
    write_json(f"reports/zoo/{config.name}.json", {k: v for k, v in info.items() if k != "config"})
    print(info["summary"])


if __name__ == "__main__":
    main(sys.argv[1:])
