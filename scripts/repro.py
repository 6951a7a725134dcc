"""`make repro [PROFILE=name]`: `dvc repro` on params.yaml as it is, or a profile run as a DVC experiment.

With a profile, the overrides come from `scalegmn.profiles.profile_overrides` resolved on the committed
default params (`git show HEAD:params.yaml`, or params.yaml itself outside git), and
`dvc exp run -S ...` applies them: DVC edits params.yaml in place (its comments stay), runs what changed
and records the experiment for `dvc exp show` / `dvc exp diff`. `make repro PROFILE=default` switches back.
Usage: python scripts/repro.py [PROFILE]
"""

import subprocess
import sys

import yaml

from scalegmn.profiles import load_params, profile_overrides

PARAMS = "params.yaml"


def committed_default() -> dict:
    """The default params as committed (HEAD), or the working file where there is no commit."""
    shown = subprocess.run(["git", "show", f"HEAD:{PARAMS}"], capture_output=True, text=True)
    return yaml.safe_load(shown.stdout) if shown.returncode == 0 else load_params(PARAMS)


def main() -> int:
    profile = sys.argv[1] if len(sys.argv) > 1 else ""
    if not profile:
        command = ["dvc", "repro"]
    else:
        overrides = profile_overrides(profile, load_params(PARAMS), committed_default())
        command = ["dvc", "exp", "run", *[arg for o in overrides for arg in ("-S", o)]]
    print("+", " ".join(command), flush=True)
    return subprocess.call(command)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
