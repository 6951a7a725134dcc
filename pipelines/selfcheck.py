"""DVC stage: numerical self-check of every weight transformation (writes reports/selfcheck.json)."""

import subprocess
import sys

import yaml

params = yaml.safe_load(open("params.yaml"))["selfcheck"]
sys.exit(subprocess.call(["scalegmn", "selfcheck", "--seed", str(params["seed"]), "--trials", str(params["trials"]),
                          "--out", "reports/selfcheck.json"]))
