"""DVC stage: random symmetry copies of a zoo (params.yaml section `augment.<zoo>`).

Usage: python pipelines/augment.py ZOO   reads datasets/zoos/ZOO, writes datasets/augmented/ZOO.
"""

import subprocess
import sys

import yaml

from scalegmn.report.timings import record_stage

zoo = sys.argv[1]
params = yaml.safe_load(open("params.yaml"))["augment"][zoo]
flag = {True: "--", False: "--no-"}
with record_stage(f"augment-{zoo}"):
    code = subprocess.call([
        "scalegmn", "augment", f"datasets/zoos/{zoo}", f"datasets/augmented/{zoo}",
        "--copies", str(params["copies"]), "--seed", str(params["seed"]),
        "--max-log-scale", str(params["max_log_scale"]),
        f"{flag[params['permute']]}permute", f"{flag[params['scale']]}scale",
        f"{flag[params['canonicalize']]}canonicalize",
    ])
    if code:
        sys.exit(code)
