"""DVC stage `zoo`: acquire one model zoo (params `zoo.workers` and `zoo.<name>`).

Usage: python pipelines/zoo.py NAME OUT_DIR SUMMARY_JSON TIMING_JSON. A zoo whose params say
`generator: cnn|inr` is generated (digits-cnn, digits-inr); any other name is a public zoo, downloaded (or
taken from `zoo.<name>.from_file`, an archive placed by hand), verified and extracted into OUT_DIR.
"""

import argparse
import os
from pathlib import Path

from scalegmn.config import ConfigError, check_keys, from_mapping, read_section
from scalegmn.errors import report_errors
from scalegmn.io import write_json
from scalegmn.timing import record_stage
from scalegmn.zoo import zoo_info
from scalegmn.zoo.cnn_zoo import CnnZooConfig
from scalegmn.zoo.download import acquire_zoo, get_source
from scalegmn.zoo.generate import write_cnn_zoo, write_inr_zoo
from scalegmn.zoo.inr_zoo import InrZooConfig

GENERATORS = {"cnn": (CnnZooConfig, write_cnn_zoo), "inr": (InrZooConfig, write_inr_zoo)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("name")
    parser.add_argument("out", type=Path)
    parser.add_argument("summary")
    parser.add_argument("timing")
    parser.add_argument("--downloads", type=Path, default=Path("datasets/downloads"),
                        help="where downloaded archives are kept (an interrupted download resumes)")
    args = parser.parse_args()
    params = read_section("params.yaml", "zoo")
    settings = dict(params.get(args.name) or {})
    where = f"params.yaml: zoo.{args.name}"
    workers = params.get("workers") or os.cpu_count() or 1
    with record_stage(f"zoo@{args.name}", args.timing):
        generator = settings.pop("generator", None)
        if generator in GENERATORS:
            config_class, write = GENERATORS[generator]
            info = write(from_mapping(config_class, {"name": args.name, **settings}, where), args.out,
                         workers=workers)
        elif generator is None:
            check_keys(settings, ["from_file"], where)
            if args.out.name != args.name:
                raise ConfigError(f"{args.out}: a public zoo is extracted into a folder named {args.name!r}")
            acquire_zoo(get_source(args.name), args.out.parent, from_file=settings.get("from_file"),
                        downloads=args.downloads)
            info = zoo_info(args.out)
            info["summary"] = f"{args.name}: {info.get('size')} networks in {args.out}"
        else:
            raise ConfigError(f"{where}: generator must be 'cnn' or 'inr', got {generator!r}")
    write_json(args.summary, {k: v for k, v in info.items() if k not in ("config", "summary")})
    print(info["summary"])


if __name__ == "__main__":  # the generators spawn worker processes that re-import this file
    report_errors(main)
