"""DVC stage: random symmetry copies of a zoo (params.yaml section `augment.<zoo>`).

Usage: python pipelines/augment.py ZOO   reads datasets/zoos/ZOO, writes datasets/augmented/ZOO.
"""

import sys

from scalegmn.config import ConfigError, from_mapping, read_section
from scalegmn.errors import report_errors
from scalegmn.report.timings import record_stage
from scalegmn.store.augment import AugmentConfig
from scalegmn.store.stages import augment_zoo


def main() -> None:
    zoo = sys.argv[1]
    section = read_section("params.yaml", "augment")
    if not isinstance(section, dict) or zoo not in section:
        raise ConfigError(f"params.yaml: augment: no entry for zoo {zoo!r}")
    config = from_mapping(AugmentConfig, section[zoo], f"params.yaml: augment.{zoo}")
    with record_stage(f"augment-{zoo}"):
        summary = augment_zoo(f"datasets/zoos/{zoo}", f"datasets/augmented/{zoo}", config)
    print(summary.line)


report_errors(main)
