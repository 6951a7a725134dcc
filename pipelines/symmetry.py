"""DVC stage: the symmetry checker on one registered model (writes reports/symmetry/MODEL.json).

Usage: python pipelines/symmetry.py MODEL
"""

import subprocess
import sys

from scalegmn.report.timings import record_stage

model = sys.argv[1]
with record_stage(f"symmetry-{model}"):
    code = subprocess.call(["scalegmn", "check-symmetry", model, "--out", f"reports/symmetry/{model}.json"])
sys.exit(code)
