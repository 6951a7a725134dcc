"""DVC stage: acquire one model zoo (params.yaml sections `zoos` and `zoo.<name>`).

Usage: python pipelines/zoo.py NAME. A zoo whose params say `generator: cnn|inr` is generated (digits-cnn,
digits-inr); any other name is a public zoo, downloaded (or taken from `zoo.<name>.from_file`, an archive
placed by hand), verified and extracted. Writes datasets/zoos/NAME and reports/zoo/NAME.json.
"""

import os
import sys

from scalegmn.config import ConfigError, check_keys, from_mapping, read_section
from scalegmn.errors import report_errors
from scalegmn.io import write_json
from scalegmn.report.timings import record_stage
from scalegmn.zoo import zoo_info
from scalegmn.zoo.cnn_zoo import CnnZooConfig
from scalegmn.zoo.download import acquire_zoo, get_source
from scalegmn.zoo.generate import write_cnn_zoo, write_inr_zoo
from scalegmn.zoo.inr_zoo import InrZooConfig

GENERATORS = {"cnn": (CnnZooConfig, write_cnn_zoo), "inr": (InrZooConfig, write_inr_zoo)}


def main() -> None:
    name = sys.argv[1]
    params = read_section("params.yaml", "zoo")
    settings = dict(params.get(name) or {})
    where = f"params.yaml: zoo.{name}"
    workers = params.get("workers") or os.cpu_count() or 1
    out = f"datasets/zoos/{name}"
    with record_stage(f"zoo-{name}"):
        generator = settings.pop("generator", None)
        if generator in GENERATORS:
            config_class, write = GENERATORS[generator]
            info = write(from_mapping(config_class, {"name": name, **settings}, where), out, workers=workers)
        elif generator is None:
            check_keys(settings, ["from_file"], where)
            acquire_zoo(get_source(name), "datasets/zoos", from_file=settings.get("from_file"),
                        downloads="datasets/downloads")
            info = zoo_info(out)
            info["summary"] = f"{name}: {info.get('size')} networks in {out}"
        else:
            raise ConfigError(f"{where}: generator must be 'cnn' or 'inr', got {generator!r}")
    write_json(f"reports/zoo/{name}.json", {k: v for k, v in info.items() if k not in ("config", "summary")})
    print(info["summary"])


if __name__ == "__main__":  # the generators spawn worker processes that re-import this file
    report_errors(main)
