"""dvc.yaml's code deps are exactly what each stage imports: derived here from the stage scripts' imports,
followed through the library (imports inside functions included), one dep per subpackage."""

import ast
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
STAGES = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]


def _module_file(name: str) -> Path | None:
    """The source file of module ``name`` of this repository (scalegmn or a pipelines/ helper), if any."""
    parts = name.split(".")
    for base in (ROOT, ROOT / "pipelines"):
        path = base.joinpath(*parts)
        if path.with_suffix(".py").is_file():
            return path.with_suffix(".py")
        if (path / "__init__.py").is_file():
            return path / "__init__.py"
    return None


def _imported(path: Path) -> set[str]:
    """Modules imported anywhere in ``path`` (``from a import b`` names ``a.b`` when that is a module)."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            names.add(base)
            names |= {f"{base}.{alias.name}" for alias in node.names if _module_file(f"{base}.{alias.name}")}
    return names


def _parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def code_deps(script: Path) -> set[str]:
    """The dvc.yaml deps a stage running ``script`` needs: the script, the pipelines/ helpers it imports,
    and each scalegmn subpackage directory or top-level module file it reaches."""
    seen: set[Path] = set()
    todo = [script]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for name in _imported(path):
            for parent in _parents(name):
                found = _module_file(parent)
                if found is not None and found not in seen:
                    todo.append(found)
    deps = set()
    for path in seen:
        rel = path.relative_to(ROOT)
        if rel.parts[0] == "scalegmn" and len(rel.parts) > 2:
            deps.add("/".join(rel.parts[:2]))
        else:
            deps.add(rel.as_posix())
    return deps


def declared_code_deps(stage: dict) -> set[str]:
    body = stage.get("do", stage)
    return {d for d in body["deps"] if d.startswith(("pipelines/", "scalegmn"))}


def stage_script(stage: dict) -> Path:
    body = stage.get("do", stage)
    words = body["cmd"].split()
    assert words[0] == "python" and words[1].startswith("pipelines/"), body["cmd"]
    return ROOT / words[1]


@pytest.mark.parametrize("name", sorted(STAGES))
def test_stage_deps_are_exactly_what_the_stage_imports(name):
    stage = STAGES[name]
    wanted = code_deps(stage_script(stage))
    declared = declared_code_deps(stage)
    assert declared == wanted, f"dvc.yaml stage {name}: missing {sorted(wanted - declared)}, " \
                               f"not imported {sorted(declared - wanted)}"


def test_import_derivation_follows_function_level_and_relative_imports(tmp_path):
    deps = code_deps(ROOT / "pipelines" / "symmetry.py")
    assert "scalegmn/registry.py" in deps  # imported inside check_model
    assert {"scalegmn/nn", "scalegmn/baselines", "scalegmn/core", "scalegmn/__init__.py"} <= deps
