"""DVC stage: numerical self-check of every weight transformation (writes reports/selfcheck.json)."""

import subprocess
import sys

from scalegmn.config import ConfigError, check_keys, coerce, read_section
from scalegmn.errors import report_errors


def main() -> None:
    where = "params.yaml: selfcheck"
    params = read_section("params.yaml", "selfcheck") or {}
    check_keys(params, ["seed", "trials"], where)
    missing = [k for k in ("seed", "trials") if k not in params]
    if missing:
        raise ConfigError(f"{where}: missing {', '.join(missing)}")
    seed, trials = (coerce(params[k], int, f"{where}: {k}") for k in ("seed", "trials"))
    sys.exit(subprocess.call(["scalegmn", "selfcheck", "--seed", str(seed), "--trials", str(trials),
                              "--out", "reports/selfcheck.json"]))


report_errors(main)
