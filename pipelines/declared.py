"""The outputs this pipeline declares: dvc.yaml's stages, expanded by DVC from params.yaml.

The stages that gather results read exactly these (never a whole folder), so a file left behind by an
earlier configuration (another profile's symmetry check, a removed method's runs) is never reported.
"""

from pathlib import Path

from dvc.repo import Repo


def declared_outputs(folder: str | Path) -> list[Path]:
    """Every output of a dvc.yaml stage that lies inside ``folder`` (files and directories), sorted."""
    folder = Path(folder)
    with Repo(".") as repo:
        outs = [Path(str(out.def_path)) for stage in repo.index.stages for out in stage.outs]
    return sorted(p for p in outs if p.is_relative_to(folder) and p != folder)
