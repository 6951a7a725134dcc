"""The README's worked plug-in (examples/scalegmn-layer-norms): named by import path, by a method of the settings
or by its entry point, checked, trained and reported without an edit of scalegmn."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from scalegmn.config import ConfigError
from scalegmn.data.shards import write_dataset
from scalegmn.data.synthetic import synthetic_cnn_zoo
from scalegmn.diagnostics.symmetry_checker import check_symmetry, example_graphs
from scalegmn.profiles import load_params, resolve_profile
from scalegmn.registry import BUILDERS, build_model, entry_points, method_slug, resolve
from scalegmn.run.benchmark import Benchmark, collect_results, find_run_dirs, resolve_config, run_dir

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = ROOT / "examples" / "scalegmn-layer-norms"
SPEC = "scalegmn_layer_norms:LayerNorms"
BIN = Path(sys.executable).parent


def train_settings(profile: str = "default") -> dict:
    """The ``train`` section of params.yaml (or of a profile), as ``--settings params.yaml --section train``
    reads it."""
    return resolve_profile(profile, load_params(ROOT / "params.yaml"), ROOT / "profiles")["train"]


def tiny_zoo(path: Path, size: int = 40) -> Path:
    """A graph dataset of ``size`` ReLU and tanh CNNs with scores, split 60/20/20."""
    splits = ["train"] * (size * 3 // 5) + ["val"] * (size // 5) + ["test"] * (size // 5)
    write_dataset(path, zip(synthetic_cnn_zoo(size, seed=0), splits), source={"name": "synthetic"}, params={})
    return path


def readme_block(marker: str) -> str:
    """The fenced block right after ``<!-- test: marker -->`` in README.md."""
    found = re.search(rf"<!-- test: {marker} -->\n```\w*\n(.*?)\n```", (ROOT / "README.md").read_text(), re.S)
    assert found, f"README.md has no block marked <!-- test: {marker} -->"
    return found.group(1)


@pytest.fixture
def plugin_on_path(monkeypatch):
    monkeypatch.syspath_prepend(str(PLUGIN))


@pytest.fixture
def quick(seeded_single_thread):
    """One epoch, one thread, no progress bars: the overrides of the runs below."""
    return ["epochs=1", "num_threads=1", "progress=false"]


def test_example_metanet_is_permutation_but_not_scale_invariant(plugin_on_path):
    gen = torch.Generator().manual_seed(0)
    graphs = example_graphs("cnn", ["relu"], 4, gen)
    torch.manual_seed(0)
    model = build_model(SPEC, graphs[0], 2, hidden=8)
    rows = {r.transform: r for r in check_symmetry(model, graphs, gen, 2, name="layer_norms")}
    assert rows["permutation"].holds and not rows["scaling"].holds
    assert rows["permutation"].claimed and not rows["scaling"].claimed
    assert all(r.passed for r in rows.values())


def test_example_metanet_trains_through_the_cli(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(PLUGIN), str(ROOT)]))
    proc = subprocess.run(
        [str(BIN / "scalegmn"), "train", "--task", "genpred-relu", "--model", SPEC,
         "--dataset", str(tiny_zoo(tmp_path / "ds")), "--out", str(tmp_path / "run"), "--config", "epochs=2",
         "--config", "progress=false", "--config", "num_threads=1"],
        env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads((tmp_path / "run" / "result.json").read_text())
    assert result["method"] == SPEC and result["status"] == "ok"


def test_method_named_by_import_path_trains_without_registry_edit(tmp_path, plugin_on_path, quick):
    settings = train_settings()
    settings["methods"]["layer-norms"] = {"metanetwork": SPEC, "model": {"hidden": 8}}
    bench = Benchmark(["genpred-relu"], ["layer-norms"], [0], {"cnn": tiny_zoo(tmp_path / "ds")}, settings)
    [result] = bench.run(tmp_path / "runs", overrides=quick)
    assert result["status"] == "ok" and result["method"] == "layer-norms"
    assert result["config"]["model"] == {"hidden": 8} and result["fingerprint"]["metanetwork"] == SPEC
    assert (tmp_path / "runs" / "genpred-relu" / "layer-norms" / "seed0" / "result.json").is_file()
    assert "layer-norms" not in BUILDERS


def test_entry_point_metanetwork_resolves(tmp_path, monkeypatch, quick):
    shutil.copytree(PLUGIN, tmp_path / "src")  # the build writes into its source folder
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-build-isolation", "--no-deps", "--no-index",
                    "--target", str(tmp_path / "site"), str(tmp_path / "src")], check=True, timeout=120)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    assert entry_points()["layer-norms"].value == SPEC
    assert resolve("layer-norms").__name__ == "LayerNorms"
    assert resolve_config(train_settings(), "genpred-relu", "layer-norms").model == {"hidden": 32}
    from typer.testing import CliRunner

    from scalegmn.cli import app

    res = CliRunner().invoke(app, [
        "benchmark", "--tasks", "genpred-relu", "--methods", "layer-norms", "--seeds", "0",
        "--dataset", f"cnn={tiny_zoo(tmp_path / 'ds')}", "--out", str(tmp_path / "runs"),
        "--results", str(tmp_path / "results.json"), *[f"--config={item}" for item in quick], "--no-progress"])
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "results.json").read_text())[0]["method"] == "layer-norms"


def test_default_model_options_do_not_break_plugins(plugin_on_path):
    assert resolve_config(train_settings(), "genpred-relu", SPEC).model == {"hidden": 32}  # not `layers`
    for profile in ("default", "smoke"):
        settings = train_settings(profile)
        shared = settings["defaults"]["model"]
        for method in BUILDERS:  # the built-ins get exactly the shared options and their method's own
            own = (settings["methods"].get(method) or {}).get("model") or {}
            assert resolve_config(settings, "genpred-relu", method).model == {**shared, **own}, (profile, method)


def test_unknown_per_method_model_option_is_an_error(plugin_on_path):
    settings = train_settings()
    settings["methods"]["layer-norms"] = {"metanetwork": SPEC, "model": {"layers": 2}}
    with pytest.raises(ConfigError, match=r"method 'layer-norms' \(scalegmn_layer_norms:LayerNorms\): unknown "
                                          r"model option 'layers' .*; known: hidden, max_layers"):
        resolve_config(settings, "genpred-relu", "layer-norms")
    settings["methods"]["scalegmn"] = {"model": {"hiden": 8}}
    with pytest.raises(ConfigError, match=r"unknown model option 'hiden' \(did you mean 'hidden'\?\)"):
        resolve_config(settings, "genpred-relu", "scalegmn")
    with pytest.raises(ConfigError, match=r"unknown model 'layer-norm': not a built-in .* not an entry point of "
                                          r"the group 'scalegmn.metanetworks' .* and not an import path"):
        resolve_config({"methods": {"layer-norm": {}}}, "genpred-relu", "layer-norm")
    with pytest.raises(ConfigError, match=r"methods: method name 'Layer Norms' is not lowercase letters"):
        resolve_config({"methods": {"Layer Norms": {"metanetwork": SPEC}}}, "genpred-relu", "statnn")


def test_import_path_method_writes_safe_folder(tmp_path, plugin_on_path, quick):
    assert method_slug(SPEC) == "scalegmn_layer_norms.LayerNorms" and method_slug("scalegmn-b") == "scalegmn-b"
    for unsafe in ("../x", "a/b:C", "pkg:", "Layer Norms"):
        with pytest.raises(ValueError, match="neither a name"):
            method_slug(unsafe)
    bench = Benchmark(["genpred-relu"], [SPEC], [0], {"cnn": tiny_zoo(tmp_path / "ds")}, train_settings())
    bench.run(tmp_path / "runs", overrides=quick)
    [record] = collect_results(find_run_dirs(tmp_path / "runs"))
    assert record["method"] == SPEC
    assert run_dir(tmp_path / "runs", "genpred-relu", SPEC, 0) == \
        tmp_path / "runs" / "genpred-relu" / "scalegmn_layer_norms.LayerNorms" / "seed0"


def test_readme_plugin_commands_run_verbatim(tmp_path):
    """The README block, run with bash in a copy of the repository root that has a small digits-cnn dataset
    and a `.venv/bin` whose commands run this checkout."""
    for name in ("params.yaml", "pipelines", "examples"):
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy)(ROOT / name, tmp_path / name)
    tiny_zoo(tmp_path / "datasets" / "graphs" / "digits-cnn", size=30)
    venv = tmp_path / ".venv" / "bin"
    venv.mkdir(parents=True)
    for command, target in (("scalegmn", BIN / "scalegmn"), ("python", Path(sys.executable))):
        (venv / command).write_text(f'#!/bin/sh\nPYTHONPATH="{ROOT}${{PYTHONPATH:+:$PYTHONPATH}}" exec {target} "$@"\n')
        (venv / command).chmod(0o755)
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE", OMP_NUM_THREADS="1")
    env.pop("PYTHONPATH", None)
    proc = subprocess.run(["bash", "-e", "-c", readme_block("plugin")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for task in ("genpred-relu", "genpred-tanh"):
        for seed in (0, 1, 2):
            assert (tmp_path / "reports/plugin/runs" / task / "scalegmn_layer_norms.LayerNorms" / f"seed{seed}" /
                    "result.json").is_file()
    report = (tmp_path / "reports" / "plugin" / "report.md").read_text()
    assert "| scalegmn_layer_norms:LayerNorms |" in report and "| statnn |" in report
    assert "Holds where claimed: **2/2 models**." in report
    assert (tmp_path / "reports" / "plugin" / "plots" / "genpred-tanh_predictions.svg").is_file()


def test_readme_plugin_params_entry_resolves(tmp_path, monkeypatch):
    """The README's params.yaml entry for the installed plug-in (its entry point stood in by a dist-info)."""
    info = tmp_path / "scalegmn_layer_norms-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: scalegmn-layer-norms\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(f"[scalegmn.metanetworks]\nlayer-norms = {SPEC}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.syspath_prepend(str(PLUGIN))
    settings = train_settings()
    settings["methods"] |= yaml.safe_load(readme_block("plugin-params"))["train"]["methods"]
    assert resolve_config(settings, "genpred-relu", "layer-norms").model == {"hidden": 16}
